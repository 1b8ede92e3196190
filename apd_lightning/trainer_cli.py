"""The LightningCLI behind ``fit`` / ``validate`` / ``test`` / ``predict``.

On top of Lightning's: the nets follow ``data.image_size``; ``predict`` writes PNG files; ``fit`` gets its own run
folder (:mod:`apd_lightning.runs`), pre-emption checkpoints, exact resume and atomic checkpoint writes; every
command says which checkpoint it loads; a checkpoint supplies weights only (the config defines the model).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import yaml
from jsonargparse import DefaultHelpFormatter
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger

from .callbacks.faults import AtomicCheckpointIO, PreemptionCheckpoint, RandomStateCheckpoint
from .callbacks.prediction_writer import DrawingWriter
from .runs import RUN_DIR_ENV, RunFolder, is_global_zero, newest_checkpoint, prepare_fit_run, root_dir, run_name


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _plain_strategy(strategy) -> bool:
    """Strategies that write checkpoints through ``checkpoint_io`` (not DeepSpeed / FSDP / XLA's own)."""
    return isinstance(strategy, str) and not any(name in strategy for name in ("deepspeed", "fsdp", "xla"))


def _say(message: str) -> None:
    if is_global_zero():
        print(message, flush=True)


class RunConfigSaver(SaveConfigCallback):
    """Saves the resolved config as ``config.yaml`` in the run folder (``run_dir``; else the trainer's log dir)
    and, for W&B, into the run's config (key ``cli``)."""

    def __init__(self, *args, run_dir: Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.run_dir = run_dir

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.run_dir is None:
            return super().setup(trainer, pl_module, stage)
        if self.already_saved:
            return None
        if trainer.is_global_zero:  # the folder is rank 0's: no collective call is needed
            self.run_dir.mkdir(parents=True, exist_ok=True)
            path = str(self.run_dir / self.config_filename)
            self.parser.save(self.config, path, skip_none=False, overwrite=True, multifile=self.multifile)
            self.save_config(trainer, pl_module, stage)
        self.already_saved = True
        return None

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                resolved = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
                logger.experiment.config.update({"cli": resolved}, allow_val_change=True)


class APDLightningCLI(LightningCLI):
    """LightningCLI with run folders, image-size following nets and PNG-writing ``predict``."""

    run_folder: RunFolder | None = None

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--run_name",
            type=str | None,
            default=None,
            help="fit writes to <trainer.default_root_dir>/<run_name>/<version>/ (default: the model class in lower "
            "case); --ckpt_path last resumes the newest run of this name",
        )

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.subcommand) or self.config
        size = config.get("data.init_args.image_size")
        for key in ("generator", "discriminators"):
            if size is not None and config.get(f"model.init_args.{key}.init_args.image_size") is not None:
                config[f"model.init_args.{key}.init_args.image_size"] = size
        if self.subcommand == "fit" and not config.get("trainer.fast_dev_run"):  # a dry run writes nothing
            self._prepare_run(config)
        else:
            self._resolve_checkpoint(config)

    def _prepare_run(self, config) -> None:
        self.run_folder = run = prepare_fit_run(config)
        self.save_config_kwargs["run_dir"] = run.path
        os.environ[RUN_DIR_ENV] = str(run.path)  # for the processes Lightning starts for the other devices
        _say(f"run folder: {run.path} (config.yaml, checkpoints/, logs)")
        if run.resumed_from is not None:
            _say(f"resuming from {run.resumed_from}")
        elif config.get("ckpt_path") not in (None, "last"):
            _say(f"resuming from {config.ckpt_path}")

    def _resolve_checkpoint(self, config) -> None:
        """``--ckpt_path last``: the newest ``last.ckpt`` of the run name; then say which weights are used."""
        if config.get("ckpt_path") == "last":
            found = newest_checkpoint(root_dir(config), run_name(config))
            if found is None:
                raise FileNotFoundError(
                    f"--ckpt_path last: no {root_dir(config) / run_name(config)}/*/checkpoints/last.ckpt; "
                    "pass a checkpoint file"
                )
            config.ckpt_path = str(found)
        if config.get("ckpt_path"):
            _say(f"{self.subcommand}: weights from {config.ckpt_path}")
        else:
            _say(f"{self.subcommand}: no --ckpt_path: the model keeps its initial (random) weights")

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
        trainer = super()._instantiate_trainer(config, callbacks)
        if self.run_folder is not None:  # checkpoints without an explicit dirpath go into the run folder
            for callback in trainer.checkpoint_callbacks:
                if getattr(callback, "dirpath", "") is None:
                    callback.dirpath = os.path.realpath(self.run_folder.checkpoints)
        return trainer


SUBCOMMAND_EXAMPLES = {
    "fit": [
        "-c configs/apdrawinggan.yaml -c configs/demo/apdrawinggan.yaml",
        "-c configs/qmupd.yaml --data.root datasets/portrait_drawing --trainer.devices 2 --trainer.strategy ddp",
        "-c configs/apdrawinggan.yaml --data.root datasets/APDrawingDB --ckpt_path last",
    ],
    "validate": ["-c configs/apdrawinggan.yaml --data.root datasets/APDrawingDB --ckpt_path last"],
    "test": ["-c configs/apdrawinggan.yaml --data.root datasets/APDrawingDB --ckpt_path last"],
    "predict": [
        "-c configs/apdrawinggan.yaml --ckpt_path last --data.predict_dir my_photos/ --data.predict_output_dir out/",
        "-c configs/qmupd.yaml --ckpt_path weights/qmupd.ckpt --data.root DATA --model.styles 1,2,3",
    ],
}


class _HelpFormatter(DefaultHelpFormatter):
    """jsonargparse's help formatter, keeping the examples epilog's lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _examples(prog: str, command: str) -> str:
    return "examples:\n" + "\n".join(f"  {prog} {command} {example}" for example in SUBCOMMAND_EXAMPLES[command])


def run_trainer_command(argv: Sequence[str] | None, prog: str) -> None:
    """Run one LightningCLI subcommand; ``argv`` ``None`` reads ``sys.argv``.

    Args:
        argv: the words after the program name, e.g. ``["fit", "-c", "configs/apdrawinggan.yaml"]``.
        prog: program name shown in usage lines.
    """
    previous = os.environ.get(RUN_DIR_ENV)
    try:
        APDLightningCLI(
            L.LightningModule,
            L.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            save_config_callback=RunConfigSaver,
            save_config_kwargs={"overwrite": True},
            parser_kwargs={
                "prog": prog,
                **{c: {"epilog": _examples(prog, c), "formatter_class": _HelpFormatter} for c in SUBCOMMAND_EXAMPLES},
            },
            args=None if argv is None else list(argv),
            auto_configure_optimizers=False,
        )
    finally:
        if previous is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = previous
