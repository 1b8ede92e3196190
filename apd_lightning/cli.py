"""Command line: LightningCLI subcommands (fit / validate / test / predict) plus the project's own tools.

python -m apd_lightning fit -c configs/apdrawinggan.yaml [--data.root DIR] [--print_config]
python -m apd_lightning make-demo-data OUT_DIR [--size N] [--count N] [--seed S]
python -m apd_lightning make-sheet --photos DIR --drawings DIR --out FILE.png
python -m apd_lightning draw PHOTO_OR_DIR... --ckpt CKPT --out DIR
python -m apd_lightning export --ckpt CKPT --out MODEL.onnx
python -m apd_lightning serve --ckpt CKPT [--ckpt CKPT2 ...] [--port 8000]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

#: Extra subcommands: name -> "module:function" taking ``argv`` (imported only when used, to start fast).
EXTRA_COMMANDS: dict[str, str] = {
    "make-demo-data": "apd_lightning.cli:make_demo_data_main",
    "make-sheet": "apd_lightning.cli:make_sheet_main",
    "evaluate": "apd_lightning.metrics.evaluate:main",
    "preprocess": "apd_lightning.faces.cli:main",
    "make-rated-set": "apd_lightning.data.ratings:make_rated_set_main",
    "convert-weights": "apd_lightning.convert:main",
    "draw": "apd_lightning.draw.cli:main",
    "export": "apd_lightning.draw.export:main",
    "serve": "apd_lightning.serve.cli:main",  # a local web page (and HTTP API): photo in, drawing out
}
TRAINER_COMMANDS = ("fit", "validate", "test", "predict")


def _load(target: str) -> Callable[[Sequence[str]], int | None]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def make_demo_data_main(argv: Sequence[str]) -> int:
    """``make-demo-data OUT_DIR [--size N] [--count N] [--seed S]``."""
    from .data.demo import make_demo_data

    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning make-demo-data",
        description="Render procedural portraits in the APDrawing and unpaired layouts.",
    )
    parser.add_argument("out_dir", help="output folder (OUT_DIR/apdrawing and OUT_DIR/unpaired are written)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--count", type=int, default=240, help="number of portraits (default 240)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--test-fraction", type=float, default=0.15, help="held-out share (default 0.15)")
    args = parser.parse_args(argv)
    summary = make_demo_data(
        args.out_dir, size=args.size, count=args.count, seed=args.seed, test_fraction=args.test_fraction
    )
    print(
        f"wrote {summary.train_count} train + {summary.test_count} test portraits at {summary.size} px in "
        f"{summary.seconds:.1f} s\n  paired (APDrawing layout): {summary.paired_root}\n"
        f"  unpaired (QMUPD layout):   {summary.unpaired_root}"
    )
    return 0


def make_sheet_main(argv: Sequence[str]) -> int:
    """``make-sheet --photos DIR --drawings DIR --out FILE``: photo | drawing contact sheet."""
    from .data.sheet import contact_sheet

    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning make-sheet",
        description="Build a side-by-side sheet of photos and their drawings.",
    )
    parser.add_argument("--photos", required=True, help="folder of photos")
    parser.add_argument("--drawings", required=True, help="folder of drawings named like the photos")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--max-rows", type=int, default=8, help="rows (photo | drawing pairs) at most")
    parser.add_argument("--columns", type=int, default=2, help="pairs per row")
    args = parser.parse_args(argv)
    path = contact_sheet(args.photos, args.drawings, args.out, args.max_rows, args.columns)
    print(f"sheet: {path}")
    return 0


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _plain_strategy(strategy) -> bool:
    """Strategies that write checkpoints through ``checkpoint_io`` (not DeepSpeed / FSDP / XLA's own)."""
    return isinstance(strategy, str) and not any(name in strategy for name in ("deepspeed", "fsdp", "xla"))


def _lightning_cli(argv: Sequence[str] | None) -> None:
    import lightning as L
    import yaml
    from lightning.fabric.plugins import CheckpointIO
    from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
    from lightning.pytorch.loggers import WandbLogger

    from .callbacks.faults import AtomicCheckpointIO, PreemptionCheckpoint, RandomStateCheckpoint
    from .callbacks.prediction_writer import DrawingWriter

    class LoggerSaveConfigCallback(SaveConfigCallback):
        """Saves the resolved config to the log dir and, for W&B, into the run's config (key ``cli``)."""

        def save_config(self, trainer, pl_module, stage) -> None:
            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    resolved = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
                    logger.experiment.config.update({"cli": resolved}, allow_val_change=True)

    class APDLightningCLI(LightningCLI):
        """LightningCLI whose nets follow ``data.image_size`` and whose ``predict`` writes PNG files."""

        def before_instantiate_classes(self) -> None:
            config = self.config.get(self.subcommand) or self.config
            size = config.get("data.init_args.image_size")
            if size is None:
                return
            for key in ("generator", "discriminators"):
                if config.get(f"model.init_args.{key}.init_args.image_size") is not None:
                    config[f"model.init_args.{key}.init_args.image_size"] = size

        def _parse_ckpt_path(self) -> None:
            # Lightning would merge the checkpoint's saved hyperparameters over the command line, silently undoing
            # e.g. --model.inference_norm train or --model.styles at predict time; the config files and the
            # command line define the model here, the checkpoint only its weights.
            return None

        def _instantiate_trainer(self, config, callbacks):
            # defaults: PNG writer for predict; pre-emption save and exact resume for fit; atomic checkpoints
            given = [*_as_list(config.get("callbacks")), *callbacks]
            defaults = {"predict": [DrawingWriter], "fit": [PreemptionCheckpoint, RandomStateCheckpoint]}
            callbacks = [
                *callbacks,
                *(
                    default()
                    for default in defaults.get(self.subcommand, [])
                    if not any(isinstance(c, default) for c in given)
                ),
            ]
            plugins = _as_list(config.get("plugins"))
            if not any(isinstance(p, CheckpointIO) for p in plugins) and _plain_strategy(config.get("strategy")):
                config["plugins"] = [*plugins, AtomicCheckpointIO()]
            return super()._instantiate_trainer(config, callbacks)

    APDLightningCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_callback=LoggerSaveConfigCallback,
        save_config_kwargs={"overwrite": True},
        args=None if argv is None else list(argv),
        auto_configure_optimizers=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m apd_lightning`` and the ``apd-lightning`` script."""
    from .runtime import keep_freed_memory

    keep_freed_memory()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in EXTRA_COMMANDS:
        return int(_load(EXTRA_COMMANDS[words[0]])(words[1:]) or 0)
    if words and not words[0].startswith("-") and words[0] not in TRAINER_COMMANDS:
        known = ", ".join([*TRAINER_COMMANDS, *EXTRA_COMMANDS])
        print(f"unknown command {words[0]!r}; choose one of: {known}", file=sys.stderr)
        return 2
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        _lightning_cli(None if argv is None else words)
    except SIGTERMException:  # pre-empted (checkpoint saved): 128 + SIGTERM tells the scheduler to restart the job
        return 143
    return 0
