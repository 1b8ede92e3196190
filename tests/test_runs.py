"""Run folders: ``<default_root_dir>/<run name>/<version>/`` per fit, claimed atomically, ``--ckpt_path last``
resuming the newest run of a name; fits through ``python -m apd_lightning`` at once never share a folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from jsonargparse import Namespace

from apd_lightning.cli import main
from apd_lightning.runs import (
    RUN_DIR_ENV,
    is_global_zero,
    new_version_dir,
    newest_checkpoint,
    prepare_fit_run,
    run_name,
)
from tests.builders import ROOT

CONFIGS = ROOT / "configs"


def _config(**trainer) -> Namespace:
    return Namespace(
        run_name=None,
        ckpt_path=None,
        model=Namespace(class_path="apd_lightning.models.APDrawingGAN"),
        trainer=Namespace(**{"default_root_dir": None, "logger": None, **trainer}),
    )


def _touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.utime(path, (mtime, mtime))
    return path


def test_versions_count_up_past_the_highest(tmp_path):
    for name in ("version_0", "version_4", "version_x", "abc123"):
        (tmp_path / "m" / name).mkdir(parents=True)
    assert new_version_dir(tmp_path, "m").name == "version_5"
    assert new_version_dir(tmp_path, "m").name == "version_6"
    assert new_version_dir(tmp_path, "other") == tmp_path / "other" / "version_0"


def test_concurrent_claims_get_distinct_folders(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: new_version_dir(tmp_path, "m"), range(40)))
    assert len(set(paths)) == 40 and all(p.is_dir() for p in paths)
    assert sorted(int(p.name.split("_")[1]) for p in paths) == list(range(40))


def test_newest_checkpoint_is_the_most_recently_written(tmp_path):
    assert newest_checkpoint(tmp_path, "m") is None
    _touch(tmp_path / "m/version_9/checkpoints/last.ckpt", 1000)
    newest = _touch(tmp_path / "m/abc123/checkpoints/last.ckpt", 2000)
    _touch(tmp_path / "m/version_3/checkpoints/epoch=1.ckpt", 3000)  # not a last.ckpt
    _touch(tmp_path / "n/version_0/checkpoints/last.ckpt", 4000)  # another name
    assert newest_checkpoint(tmp_path, "m") == newest


def test_run_name_defaults_to_the_model_class():
    assert run_name(_config()) == "apdrawinggan"
    assert run_name(Namespace(run_name="upd", model=Namespace(class_path="x.QMUPD"))) == "upd"


def test_default_logger_writes_into_the_run_folder(tmp_path):
    config = _config(default_root_dir=str(tmp_path))
    run = prepare_fit_run(config)
    assert run.path == tmp_path / "apdrawinggan" / "version_0" and run.path.is_dir() and run.resumed_from is None
    logger = config.trainer.logger
    assert logger.class_path.endswith(("CSVLogger", "TensorBoardLogger"))
    path = Path(logger.init_args.save_dir) / logger.init_args.name / logger.init_args.version
    assert path == run.path  # the logger's log_dir is the run folder


def test_explicit_loggers_are_kept_and_false_stays_false(tmp_path):
    config = _config(default_root_dir=str(tmp_path), logger=False)
    assert prepare_fit_run(config).path.name == "version_0" and config.trainer.logger is False


def test_wandb_run_id_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_RUN_ID", "sweep1ab")  # what a sweep agent gives each run
    logger = Namespace(class_path="lightning.pytorch.loggers.WandbLogger", init_args=Namespace(id=None, save_dir="."))
    config = _config(default_root_dir=str(tmp_path), logger=logger)
    run = prepare_fit_run(config)
    assert run.path == tmp_path / "apdrawinggan" / "sweep1ab" and run.path.is_dir()
    assert logger.init_args.id == "sweep1ab" and logger.init_args.save_dir == str(run.path)
    monkeypatch.delenv("WANDB_RUN_ID")
    logger.init_args.id = None
    other = prepare_fit_run(_config(default_root_dir=str(tmp_path), logger=logger))
    assert other.path != run.path and len(other.path.name) == 8  # a fresh W&B id


def test_ckpt_path_last_reuses_the_newest_run(tmp_path):
    _touch(tmp_path / "apdrawinggan/version_0/checkpoints/last.ckpt", 2000)
    newest = _touch(tmp_path / "apdrawinggan/version_1/checkpoints/last.ckpt", 3000)
    config = _config(default_root_dir=str(tmp_path))
    config.ckpt_path = "last"
    run = prepare_fit_run(config)
    assert run.path == newest.parent.parent and run.resumed_from == newest and config.ckpt_path == str(newest)
    assert sorted(p.name for p in (tmp_path / "apdrawinggan").iterdir()) == ["version_0", "version_1"]
    fresh = _config(default_root_dir=str(tmp_path / "elsewhere"))
    fresh.ckpt_path = "last"
    assert prepare_fit_run(fresh).resumed_from is None and fresh.ckpt_path == "last"  # Lightning's own lookup


def test_other_ranks_create_nothing_and_follow_rank_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert not is_global_zero()
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path / "apdrawinggan" / "version_7"))
    assert prepare_fit_run(_config(default_root_dir=str(tmp_path))).path.name == "version_7"
    assert not (tmp_path / "apdrawinggan").exists()


# ---- through the command line ------------------------------------------------------------------------------------
def _fit_args(demo_root: Path, root: Path, epochs: int = 1) -> list[str]:
    """A tiny APDrawingGAN fit with the paper config's checkpointing (no pinned dirpath)."""
    tiny = {
        "data.root": demo_root / "apdrawing",
        "data.image_size": 64,
        "data.num_workers": 0,
        "data.batch_size": 2,
        "model.generator.init_args.global_channels": 4,
        "model.generator.init_args.part_channels": 4,
        "model.generator.init_args.fusion_channels": 4,
        "model.discriminators.init_args.base_channels": 4,
        "model.discriminators.init_args.local_num_layers": 2,
        "trainer.accelerator": "cpu",
        "trainer.devices": 1,
        "trainer.max_epochs": epochs,
        "trainer.limit_train_batches": 2,
        "trainer.limit_val_batches": 0,
        "trainer.enable_progress_bar": "false",
        "trainer.enable_model_summary": "false",
        "trainer.default_root_dir": root,
    }
    return ["-c", str(CONFIGS / "apdrawinggan.yaml"), *(f"--{key}={value}" for key, value in tiny.items())]


def _step(checkpoint: Path) -> int:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"]


@pytest.mark.slow
def test_fits_get_their_own_folders_and_last_resumes_the_newest(demo_root, tmp_path, capsys):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "WANDB_MODE": "disabled"}
    command = [sys.executable, "-m", "apd_lightning", "fit", *_fit_args(demo_root, tmp_path / "shared")]
    processes = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [p.communicate(timeout=300)[0] for p in processes]  # two fits of the same name at once
    assert [p.returncode for p in processes] == [0, 0], outputs
    runs = sorted((tmp_path / "shared" / "apdrawinggan").iterdir())
    assert [p.name for p in runs] == ["version_0", "version_1"]
    for run in runs:
        assert (run / "config.yaml").is_file() and (run / "metrics.csv").is_file()
        assert _step(run / "checkpoints" / "last.ckpt") == 4  # 2 batches x (D + G) steps each
        assert sum(f"run folder: {run}" in out for out in outputs) == 1
    main(["fit", *_fit_args(demo_root, tmp_path / "moved")])  # --trainer.default_root_dir moves everything
    moved = tmp_path / "moved" / "apdrawinggan" / "version_0"
    assert (moved / "config.yaml").is_file() and (moved / "checkpoints" / "last.ckpt").is_file()

    older, newer = (run / "checkpoints" / "last.ckpt" for run in runs)
    os.utime(older, (time.time() + 60, time.time() + 60))  # version_0 was written last: it is the one to resume
    capsys.readouterr()
    main(["fit", *_fit_args(demo_root, tmp_path / "shared", epochs=2), "--ckpt_path", "last"])
    assert f"resuming from {older}" in capsys.readouterr().out
    assert (_step(older), _step(newer)) == (8, 4)  # version_0 went on for one more epoch, in its own folder
    assert [p.name for p in sorted((tmp_path / "shared" / "apdrawinggan").iterdir())] == ["version_0", "version_1"]
