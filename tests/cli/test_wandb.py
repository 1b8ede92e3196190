"""Weights & Biases: a fit with the logger overlay, offline, logs losses, learning rate, sample grids,
validation metrics and the resolved config into its run folder ``<root>/<run_name>/<W&B run id>/``."""

from __future__ import annotations

import json
import time

import pytest

from apd_lightning.cli import main
from tests.builders import CONFIGS
from tests.helpers import ONE_SHORT_EPOCH, apdrawinggan_args

pytestmark = pytest.mark.usefixtures("one_thread_and_restored_determinism")

wandb = pytest.importorskip("wandb")


def _records(run_file):
    """The records of an offline run's transaction log (``run-<id>.wandb``)."""
    from wandb.proto import wandb_internal_pb2
    from wandb.sdk.internal import datastore

    store = datastore.DataStore()
    store.open_for_scan(str(run_file))
    while (data := store.scan_data()) is not None:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        yield record


def _finished_records(run_file, timeout: float = 60.0):
    """The records once W&B's service has written the run's ``exit`` record: ``wandb.finish()`` can return while
    the service is still writing the log (seen on a loaded machine: a scan that stopped before the history)."""
    deadline = time.monotonic() + timeout
    while True:
        records = list(_records(run_file))
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.5)


@pytest.mark.slow
def test_offline_run_logs_losses_images_metrics_and_config(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        assert (
            main(
                [
                    "fit",
                    *apdrawinggan_args(demo_root),
                    "-c",
                    str(CONFIGS / "logger/wandb.yaml"),
                    "--trainer.default_root_dir",
                    str(tmp_path / "runs"),
                    *ONE_SHORT_EPOCH,
                    "--trainer.log_every_n_steps",
                    "1",
                    "--trainer.callbacks+=apd_lightning.callbacks.ImageGridLogger",
                    "--trainer.callbacks.every_n_steps=1",
                ]
            )
            == 0
        )
    finally:
        wandb.finish()  # Lightning leaves the run open; the next in-process run must not reuse it

    (run_folder,) = (tmp_path / "runs" / "apdrawinggan").iterdir()  # runs/<run_name>/<W&B run id>/
    (run_dir,) = (run_folder / "wandb").glob("offline-run-*")
    assert run_dir.name.endswith(f"-{run_folder.name}")  # W&B's own folder ends with the same run id
    assert sorted(run_dir.glob("files/media/images/train/samples_*.png"))  # the sample grids
    history, config = set(), {}
    for record in _finished_records(next(run_dir.glob("run-*.wandb"))):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history |= {item.key or "/".join(item.nested_key) for item in record.history.item}
        elif kind == "config":
            config |= {item.key: json.loads(item.value_json) for item in record.config.update}
    expected = {"train/g", "train/d", "train/g_l1", "train/d_local", "train/lr", "val/l1", "val/chamfer"}
    assert expected <= history, expected - history
    assert any(key.startswith("train/samples") for key in history)
    resolved = config["cli"]  # the whole resolved config, nets' image_size following data.image_size
    assert resolved["model"]["init_args"]["generator"]["init_args"]["image_size"] == 64
    assert resolved["trainer"]["logger"]["class_path"] == "lightning.pytorch.loggers.WandbLogger"
    assert (run_folder / "config.yaml").is_file()  # LightningCLI's copy in the run folder
