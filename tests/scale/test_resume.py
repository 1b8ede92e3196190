"""``fit --ckpt_path`` continues exactly: N epochs straight == k epochs + resume, in weights, optimizer and
scheduler states, the QMUPD image pool and progress p, and the random state (CPU, deterministic, no workers)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from apd_lightning.cli import main
from apd_lightning.models.qmupd import cycle_weights

from .conftest import MODEL_ARGS


def _differences(a, b, path: str = "") -> list[str]:
    """Paths where two nested checkpoint structures differ (tensors compared exactly)."""
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for key in a for d in _differences(a[key], b[key], f"{path}/{key}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}/{i}")]
    if isinstance(a, torch.Tensor):
        return [] if a.shape == b.shape and torch.equal(a, b) else [path]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _checkpointing(tmp_path: Path, name: str) -> list[str]:
    """A config replacing the demo callbacks: a checkpoint after every epoch (and last.ckpt) in tmp/name."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "trainer": {
                    "callbacks": [
                        {
                            "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                            "init_args": {
                                "dirpath": str(tmp_path / name),
                                "save_last": True,
                                "save_top_k": -1,
                                "every_n_epochs": 1,
                            },
                        }
                    ]
                }
            }
        )
    )
    return ["-c", str(path)]


# (model, epochs straight, resume after, validate every n epochs). check_val_every_n_epoch > 1 makes
# ModelCheckpoint save at validation end, before on_train_epoch_end: Lightning then finishes that epoch again
# on resume (the other code path of RandomStateCheckpoint).
CASES = [("apdrawinggan", 4, 2, 2), ("qmupd", 2, 1, 1)]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")
@pytest.mark.parametrize(("model", "epochs", "resume_after", "val_every"), CASES, ids=[c[0] for c in CASES])
def test_resume_continues_exactly(model, epochs, resume_after, val_every, demo_root, tmp_path):
    common = [
        *MODEL_ARGS[model](demo_root),
        "--trainer.logger",
        "false",
        "--trainer.deterministic",
        "true",
        "--trainer.limit_train_batches",
        "2",
        "--trainer.limit_val_batches",
        "1",
        "--trainer.check_val_every_n_epoch",
        str(val_every),
        "--trainer.max_epochs",
        str(epochs),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        "--model.lr_constant_epochs",
        "1",
        "--model.lr_decay_epochs",
        "4",
    ]  # the rate changes every epoch
    if model == "qmupd":
        common += ["--model.pool_size", "3", "--model.progress_epochs", "4"]  # a full, mixing pool; p moves
    main(["fit", *common, *_checkpointing(tmp_path, "straight")])
    middle = tmp_path / "straight" / f"epoch={resume_after - 1}-step={4 * resume_after}.ckpt"
    main(["fit", *common, *_checkpointing(tmp_path, "resumed"), "--ckpt_path", str(middle)])

    straight = torch.load(tmp_path / "straight" / "last.ckpt", map_location="cpu", weights_only=True)
    resumed = torch.load(tmp_path / "resumed" / "last.ckpt", map_location="cpu", weights_only=True)
    assert straight["global_step"] == resumed["global_step"] == 4 * epochs
    keys = ["state_dict", "optimizer_states", "lr_schedulers", "random_state", "epoch"]
    if model == "qmupd":
        keys.append("image_pool")
        assert len(straight["image_pool"]["samples"][0]) == 3  # full: later queries swapped samples at random
        p_straight, p_resumed = (cycle_weights(c["epoch"], 4) for c in (straight, resumed))
        assert p_straight == p_resumed
    for key in keys:
        assert not _differences(straight[key], resumed[key], key), _differences(straight[key], resumed[key], key)
    schedule = straight["lr_schedulers"][0]
    assert schedule["_last_lr"][0] < schedule["base_lrs"][0]  # the decay is under test too
