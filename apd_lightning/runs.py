"""Run folders: every ``fit`` writes into its own ``<default_root_dir>/<run name>/<version>/``.

``<version>`` is ``version_<N>`` (the next free number, claimed with an atomic ``mkdir``, so fits started at the
same time never share a folder) or, with a W&B logger, the W&B run id. The folder holds ``config.yaml``,
``checkpoints/`` and the logger's files. ``fit --ckpt_path last`` continues the newest run of that name in its own
folder. The command line (:mod:`apd_lightning.cli`) applies this; the functions here only touch the file system
and a parsed LightningCLI config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jsonargparse import Namespace

VERSION_PREFIX = "version_"
#: Rank 0 tells the processes that Lightning launches for the other devices which folder it claimed.
RUN_DIR_ENV = "APD_LIGHTNING_RUN_DIR"
LAST_CHECKPOINT = "last.ckpt"
WANDB_LOGGER = "lightning.pytorch.loggers.WandbLogger"


@dataclass(frozen=True)
class RunFolder:
    """Where a ``fit`` writes, and the checkpoint it resumes from.

    Attributes:
        path: ``<root>/<name>/<version>``; created on global rank 0 only.
        resumed_from: the ``last.ckpt`` that ``--ckpt_path last`` resolved to, or ``None`` for a new run.
    """

    path: Path
    resumed_from: Path | None = None

    @property
    def checkpoints(self) -> Path:
        """``<path>/checkpoints``: where checkpoint callbacks without a ``dirpath`` write."""
        return self.path / "checkpoints"


def is_global_zero() -> bool:
    """Whether this process is global rank 0, read from the launchers' environment (torchrun, SLURM, the
    processes that Lightning starts for the other devices); usable before any process group exists."""
    ranks = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "JSM_NAMESPACE_RANK")
    return all(int(os.environ.get(key) or 0) == 0 for key in ranks)


def new_version_dir(root: Path | str, name: str) -> Path:
    """Create and return ``<root>/<name>/version_<N>``, N one above the highest existing number.

    ``mkdir`` fails when the folder exists, so two processes claiming the same N at once get different ones.
    """
    parent = Path(root) / name
    parent.mkdir(parents=True, exist_ok=True)
    suffixes = [p.name[len(VERSION_PREFIX) :] for p in parent.glob(f"{VERSION_PREFIX}*")]
    number = max([int(s) for s in suffixes if s.isdigit()], default=-1) + 1
    while True:
        path = parent / f"{VERSION_PREFIX}{number}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            number += 1


def newest_checkpoint(root: Path | str, name: str, filename: str = LAST_CHECKPOINT) -> Path | None:
    """The most recently written ``<root>/<name>/*/checkpoints/<filename>``, or ``None``."""
    found = [p for p in (Path(root) / name).glob(f"*/checkpoints/{filename}") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


def run_name(config: Namespace) -> str:
    """``run_name`` of the config, else the model class's name in lower case (``apdrawinggan``)."""
    if config.get("run_name"):
        return str(config.run_name)
    class_path = config.get("model.class_path") or "model"
    return class_path.rsplit(".", 1)[-1].lower()


def root_dir(config: Namespace) -> Path:
    """``trainer.default_root_dir`` (the working directory when unset)."""
    return Path(config.get("trainer.default_root_dir") or os.getcwd())


def _wandb_logger(config: Namespace) -> Namespace | None:
    logger = config.get("trainer.logger")
    if isinstance(logger, Namespace) and logger.get("class_path") == WANDB_LOGGER:
        return logger
    return None


def _wandb_run_id(logger: Namespace) -> str:
    """The W&B run id: the logger's ``id`` / ``version``, a sweep agent's ``WANDB_RUN_ID``, else a new one."""
    given = logger.get("init_args.id") or logger.get("init_args.version") or os.environ.get("WANDB_RUN_ID")
    if given:
        return str(given)
    from wandb.util import generate_id

    return generate_id()


def prepare_fit_run(config: Namespace) -> RunFolder:
    """Choose (and on rank 0 create) the run folder of a ``fit`` and point the config's logger at it.

    ``ckpt_path: last`` becomes the newest ``last.ckpt`` of the run name (that run's folder is reused); when
    there is none it stays ``last`` (Lightning then looks in explicit checkpoint ``dirpath`` s, as the demo
    overlays have). A default logger (``logger`` unset or ``true``) is replaced by a CSV / TensorBoard logger
    writing into the folder; a W&B logger gets the folder's run id and, without a ``save_dir``, the folder.

    Args:
        config: the ``fit`` subcommand's parsed config (edited in place).

    Returns:
        The run folder.
    """
    root, name = root_dir(config), run_name(config)
    resumed = newest_checkpoint(root, name) if config.get("ckpt_path") == "last" else None
    wandb = _wandb_logger(config)
    if resumed is not None:
        config.ckpt_path = str(resumed)
        path = resumed.parent.parent
    elif not is_global_zero():
        path = Path(os.environ.get(RUN_DIR_ENV) or root / name / "rank0-decides")  # never created here
    elif wandb is not None:
        path = root / name / _wandb_run_id(wandb)
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = new_version_dir(root, name)
    _point_logger(config, path, wandb)
    return RunFolder(path, resumed)


def _point_logger(config: Namespace, path: Path, wandb: Namespace | None) -> None:
    if wandb is not None:
        if not (wandb.get("init_args.id") or wandb.get("init_args.version")):
            wandb.init_args.id = path.name
        if wandb.get("init_args.save_dir") in (None, "", "."):
            wandb.init_args.save_dir = str(path)
        return
    if config.get("trainer.logger") in (None, True):
        try:
            import tensorboard  # noqa: F401 - Lightning's own default when it is installed

            class_path = "lightning.pytorch.loggers.TensorBoardLogger"
        except ImportError:
            class_path = "lightning.pytorch.loggers.CSVLogger"
        init_args = Namespace(save_dir=str(path.parent.parent), name=path.parent.name, version=path.name)
        config.trainer.logger = Namespace(class_path=class_path, init_args=init_args)
