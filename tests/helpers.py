"""Command lines of the end-to-end runs (the demo configs made tiny) and test-only callbacks, which are given on
the command line as ``--trainer.callbacks+=tests.helpers.<Name>``."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import lightning as L

from .builders import CONFIGS, ROOT

QUIET = [
    "--trainer.enable_progress_bar",
    "false",
    "--trainer.enable_model_summary",
    "false",
    "--trainer.num_sanity_val_steps",
    "0",
]


def _demo_at_64px(model: str, data_root: Path) -> list[str]:
    """``configs/<model>.yaml`` with its demo overlay, on ``data_root`` at 64 px, batch 2, no loader workers."""
    return [
        "-c",
        str(CONFIGS / f"{model}.yaml"),
        "-c",
        str(CONFIGS / f"demo/{model}.yaml"),
        "--data.root",
        str(data_root),
        "--data.image_size",
        "64",
        "--data.num_workers",
        "0",
        "--data.batch_size",
        "2",
    ]


#: One epoch of two training batches, validated once on one batch.
ONE_SHORT_EPOCH = [
    "--trainer.max_epochs",
    "1",
    "--trainer.limit_train_batches",
    "2",
    "--trainer.limit_val_batches",
    "1",
    "--trainer.check_val_every_n_epoch",
    "1",
]


def apdrawinggan_args(demo_root) -> list[str]:
    """``fit`` arguments of the demo APDrawingGAN at 64 px with width-4 nets."""
    return [
        *_demo_at_64px("apdrawinggan", demo_root / "apdrawing"),
        "--model.generator.init_args.global_channels",
        "4",
        "--model.generator.init_args.part_channels",
        "4",
        "--model.generator.init_args.fusion_channels",
        "4",
        "--model.discriminators.init_args.base_channels",
        "4",
        "--model.discriminators.init_args.local_num_layers",
        "2",
        *QUIET,
    ]


def qmupd_args(demo_root) -> list[str]:
    """``fit`` arguments of the demo QMUPD (classical auxiliaries, no quality loss) at 64 px with width-4 nets."""
    return [
        *_demo_at_64px("qmupd", demo_root / "unpaired"),
        "--model.generator.init_args.base_channels",
        "4",
        "--model.generator.init_args.num_blocks",
        "1",
        "--model.reverse_generator.init_args.base_channels",
        "4",
        "--model.reverse_generator.init_args.num_blocks",
        "1",
        "--model.discriminators.init_args.base_channels",
        "4",
        *QUIET,
    ]


MODEL_ARGS = {"apdrawinggan": apdrawinggan_args, "qmupd": qmupd_args}


def subprocess_env() -> dict[str, str]:
    """Environment of ``python -m apd_lightning`` subprocesses: one thread, no W&B, ``tests`` importable."""
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "WANDB_MODE": "disabled",
        "NO_ALBUMENTATIONS_UPDATE": "1",
    }


class DumpWeights(L.Callback):
    """At the end of ``fit`` each rank writes ``<default_root_dir>/weights_rank<r>.json``: a digest of its
    parameters, the samples and batch sizes it trained on and its view of the logged metrics."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.batch_sizes: list[int] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.names += list(batch.name)
        self.batch_sizes.append(len(batch))

    def on_train_end(self, trainer, pl_module) -> None:
        digest = hashlib.sha256()
        for name, parameter in sorted(pl_module.named_parameters()):
            digest.update(name.encode())
            digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
        report = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "global_step": trainer.global_step,
            "digest": digest.hexdigest(),
            "names": self.names,
            "batch_sizes": self.batch_sizes,
            "metrics": {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1},
            "checkpoint_io": type(trainer.strategy.checkpoint_io).__name__,
            "callbacks": [type(c).__name__ for c in trainer.callbacks],
        }
        path = Path(trainer.default_root_dir) / f"weights_rank{trainer.global_rank}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report))


class RunReport(L.Callback):
    """At the end of each loop writes ``<default_root_dir>/report_<stage>.json``: the global step, the logged
    metrics, the batch sizes seen and the ``image_size`` of every submodule that has one."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def _write(self, trainer, pl_module, stage: str) -> None:
        report = {
            "global_step": trainer.global_step,
            "metrics": {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1},
            "batch_sizes": self.batch_sizes,
            "image_sizes": {n: m.image_size for n, m in pl_module.named_modules() if hasattr(m, "image_size")},
        }
        path = Path(trainer.default_root_dir) / f"report_{stage}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batch_sizes.append(len(batch))

    def on_train_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module, "fit")

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "validate":
            self._write(trainer, pl_module, "validate")


def read_report(folder: Path, stage: str) -> dict:
    """What :class:`RunReport` wrote for ``stage`` under ``folder``."""
    return json.loads((Path(folder) / f"report_{stage}.json").read_text())


class Heartbeat(L.Callback):
    """Writes the global step to ``<default_root_dir>/heartbeat.txt`` after every batch (a subprocess test waits
    for it before sending a signal)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        path = Path(trainer.default_root_dir) / "heartbeat.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(trainer.global_step))


class PoisonLoss(L.Callback):
    """Sets ``hparams[weight] = nan`` from the batch where ``global_step`` reaches ``at_step`` on."""

    def __init__(self, weight: str = "lambda_l1", at_step: int = 4) -> None:
        self.weight, self.at_step = weight, at_step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step >= self.at_step:
            pl_module.hparams[self.weight] = math.nan
