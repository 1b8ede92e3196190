"""Faults: SIGTERM saves a checkpoint that resumes; a NaN loss stops with its name and step and leaves the last
checkpoint intact; checkpoints are written atomically and every load is ``weights_only``; ``fit --ckpt_path``
continues exactly (N epochs straight == k epochs + resume, in weights, optimizer and scheduler states, the QMUPD
image pool and progress p, and the random state)."""

from __future__ import annotations

import ast
import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from apd_lightning.callbacks.faults import AtomicCheckpointIO
from apd_lightning.cli import main
from apd_lightning.models.qmupd import cycle_weights
from tests.builders import ROOT
from tests.helpers import MODEL_ARGS, apdrawinggan_args, subprocess_env

pytestmark = pytest.mark.usefixtures("one_thread_and_restored_determinism")

PACKAGE = ROOT / "apd_lightning"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_that_resumes(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the demo overlay checkpoints to demo_output/checkpoints
    args = [
        *apdrawinggan_args(demo_root),
        "--trainer.logger",
        "false",
        "--trainer.limit_val_batches",
        "0",
        "--trainer.limit_train_batches",
        "3",
    ]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apd_lightning",
            "fit",
            *args,
            "--trainer.max_epochs",
            "1000",
            "--trainer.callbacks+=tests.helpers.Heartbeat",
        ],
        cwd=tmp_path,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    heartbeat = tmp_path / "demo_output" / "run" / "heartbeat.txt"
    deadline = time.monotonic() + 180
    while not (heartbeat.is_file() and heartbeat.read_text() and int(heartbeat.read_text()) >= 4):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0][-3000:]
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)  # as a cluster pre-empting the job
    output = process.communicate(timeout=120)[0]

    checkpoint_path = tmp_path / "demo_output" / "checkpoints" / "last.ckpt"
    assert "pre-empted: saved" in output and checkpoint_path.is_file(), output[-3000:]
    assert process.returncode == 143  # 128 + SIGTERM: schedulers restart the job
    saved = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    assert saved["global_step"] >= 4 and saved["epoch"] < 100  # stopped within a batch of the signal
    assert [p.name for p in checkpoint_path.parent.iterdir()] == ["last.ckpt"]  # no temporary files left

    assert main(["fit", *args, "--trainer.max_epochs", str(saved["epoch"] + 2), "--ckpt_path", "last"]) == 0
    resumed = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    # it finished the interrupted epoch and one more: 3 batches x (D + G) optimizer steps per epoch
    assert resumed["global_step"] == 6 * (saved["epoch"] + 2), (saved["global_step"], resumed["global_step"])
    assert [p.name for p in checkpoint_path.parent.iterdir()] == ["last.ckpt"]  # overwritten, no last-v1.ckpt


def test_nan_loss_stops_with_its_name_and_step_and_keeps_the_checkpoint(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        *apdrawinggan_args(demo_root),
        "--trainer.logger",
        "false",
        "--trainer.limit_val_batches",
        "0",
        "--trainer.limit_train_batches",
        "2",
        "--trainer.check_val_every_n_epoch",
        "1",
    ]
    assert main(["fit", *args, "--trainer.max_epochs", "1"]) == 0
    checkpoint_path = tmp_path / "demo_output" / "checkpoints" / "last.ckpt"
    before = _digest(checkpoint_path)

    with pytest.raises(FloatingPointError, match=r"loss g_l1 is nan at global step \d+"):
        main(
            [
                "fit",
                *args,
                "--trainer.max_epochs",
                "3",
                "--ckpt_path",
                "last",
                "--trainer.callbacks+=tests.helpers.PoisonLoss",
                "--trainer.callbacks.at_step=6",
            ]
        )
    assert _digest(checkpoint_path) == before  # the last good checkpoint is untouched
    state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_atomic_checkpoint_io_keeps_the_old_file_when_a_write_fails(tmp_path, monkeypatch):
    io, path = AtomicCheckpointIO(), tmp_path / "sub" / "last.ckpt"
    io.save_checkpoint({"step": torch.tensor(1)}, path)
    before = _digest(path)

    def broken_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint({"step": torch.tensor(2)}, path)
    assert _digest(path) == before and [p.name for p in path.parent.iterdir()] == ["last.ckpt"]
    monkeypatch.undo()
    assert io.load_checkpoint(path)["step"] == 1


def test_checkpoint_io_loads_weights_only_by_default(tmp_path):
    path = tmp_path / "pickled.ckpt"
    torch.save({"callable": Path}, path)  # a global that weights_only refuses
    with pytest.raises(Exception, match="[Ww]eights only"):
        AtomicCheckpointIO().load_checkpoint(path)


def _load_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("load", "load_state_dict_from_url", "load_checkpoint", "load_from_checkpoint")
        ):
            owner = ast.unparse(node.func.value)
            if node.func.attr == "load" and owner not in ("torch", "th"):
                continue  # e.g. yaml.load, np.load
            yield node


def test_every_torch_load_in_the_package_is_weights_only():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for call in _load_calls(ast.parse(path.read_text(), str(path))):
            keywords = {k.arg: k.value for k in call.keywords}
            value = keywords.get("weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}: {ast.unparse(call)}")
    assert not offenders, "calls without weights_only=True:\n" + "\n".join(offenders)


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
    assert main(["fit", *common, *_checkpointing(tmp_path, "straight")]) == 0
    middle = tmp_path / "straight" / f"epoch={resume_after - 1}-step={4 * resume_after}.ckpt"
    assert main(["fit", *common, *_checkpointing(tmp_path, "resumed"), "--ckpt_path", str(middle)]) == 0

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
