"""Checkpoints that survive faults: atomic writes, a save on SIGTERM (pre-emption) and exact resume.

The CLI registers all three by default: :class:`AtomicCheckpointIO` as the trainer's checkpoint plugin,
:class:`PreemptionCheckpoint` and :class:`RandomStateCheckpoint` as ``fit`` callbacks.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

_FIT_LOOP = "fit_loop"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file beside the target, then ``os.replace`` s it into place.

    A crash, a kill or a full disk while writing leaves the previous checkpoint untouched (Lightning's own
    writer truncates the target first). Loading always uses ``torch.load(weights_only=True)``.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options, got {storage_options!r}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def load_checkpoint(self, path, map_location: Any | None = None, weights_only: bool | None = None):
        if weights_only is False:
            raise ValueError(
                f"{type(self).__name__} loads checkpoints with weights_only=True only (they hold "
                "tensors and plain Python values); got weights_only=False"
            )
        kwargs = {} if map_location is None else {"map_location": map_location}
        return super().load_checkpoint(path, weights_only=True, **kwargs)


def last_checkpoint_path(trainer: L.Trainer) -> Path:
    """``<dirpath>/last.ckpt`` of the first :class:`ModelCheckpoint` (where ``--ckpt_path last`` looks), else
    ``<default_root_dir>/checkpoints/last.ckpt``."""
    callback = trainer.checkpoint_callback
    if isinstance(callback, ModelCheckpoint) and callback.dirpath:
        return Path(os.path.join(callback.dirpath, f"{callback.CHECKPOINT_NAME_LAST}{callback.FILE_EXTENSION}"))
    return Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"


class PreemptionCheckpoint(L.Callback):
    """On SIGTERM (a cluster pre-empting the job, ``kill``), save ``last.ckpt`` at the next batch end and stop.

    The signal handler only sets a flag (it runs between two bytecodes of the training step); the checkpoint is
    written at the end of the current batch, when the weights and optimizer states agree, then the trainer
    stops. ``fit --ckpt_path last`` resumes from it; mid-epoch the interrupted epoch restarts its data order
    (Lightning cannot fast-forward a map-style data loader), so only end-of-epoch resumes are exact. Under DDP
    the ranks agree on the flag before saving. On SLURM, Lightning's own ``SIGUSR1`` requeue handler works
    alongside.

    Args:
        signals: names of the signals to handle.
    """

    def __init__(self, signals: tuple[str, ...] = ("SIGTERM",)) -> None:
        self.signals = tuple(signals)
        self.requested = False
        self.saved_to: Path | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        self.requested = True
        previous = self._previous.get(signum)
        if callable(previous):  # e.g. Lightning's own handler, which forwards the signal to DDP children
            previous(signum, frame)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.requested, self.saved_to = False, None
        try:
            for name in self.signals:
                number = getattr(signal, name)
                self._previous[number] = signal.signal(number, self._handle)
        except ValueError:  # not the main thread (e.g. a notebook's worker thread): nothing to install
            self._previous = {}

    def _restore_handlers(self) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous if previous is not None else signal.SIG_DFL)
        self._previous = {}

    def _save(self, trainer: L.Trainer) -> None:
        path = last_checkpoint_path(trainer)
        if isinstance(trainer.checkpoint_callback, ModelCheckpoint):  # so that it overwrites, not adds last-v1
            trainer.checkpoint_callback.last_model_path = str(path)
        trainer.save_checkpoint(path, weights_only=False)
        self.saved_to = path
        rank_zero_info(
            f"pre-empted: saved {path} at global step {trainer.global_step}; resume with `fit ... --ckpt_path last`"
        )

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        requested = self.requested or trainer.received_sigterm
        if trainer.world_size > 1:
            requested = trainer.strategy.reduce_boolean_decision(requested, all=False)
        if requested and self.saved_to is None:
            self._save(trainer)
            trainer.should_stop = True

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_handlers()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        # Lightning stops DDP ranks with SIGTERMException at a batch boundary, possibly before our batch end
        if isinstance(exception, SIGTERMException) and self.saved_to is None:
            self._save(trainer)
        self._restore_handlers()


# ---- exact resume: the random state ------------------------------------------------------------------------
def _random_sources(obj: Any) -> list[np.random.Generator | random.Random]:
    """The random generators an object (a dataset) keeps in its attributes, in a fixed order: NumPy
    generators, ``random.Random`` instances and those of Albumentations pipelines and their transforms."""
    found: list[np.random.Generator | random.Random] = []

    def visit(value: Any, depth: int) -> None:
        if isinstance(value, (np.random.Generator, random.Random)):
            if all(value is not seen for seen in found):
                found.append(value)
        elif hasattr(value, "random_generator") and hasattr(value, "py_random") and depth < 4:
            visit(value.random_generator, depth + 1)
            visit(value.py_random, depth + 1)
            for child in getattr(value, "transforms", []):
                visit(child, depth + 1)

    for value in vars(obj).values():
        visit(value, 0)
    return found


def _source_state(source: np.random.Generator | random.Random) -> Any:
    return source.getstate() if isinstance(source, random.Random) else source.bit_generator.state


def _set_source_state(source: np.random.Generator | random.Random, state: Any) -> None:
    if isinstance(source, random.Random):
        source.setstate(state)
    else:
        source.bit_generator.state = state


def _train_dataset(trainer: L.Trainer):
    datamodule = trainer.datamodule
    datasets = getattr(datamodule, "datasets", None) if datamodule is not None else None
    return datasets.get("train") if isinstance(datasets, dict) else None


def collect_random_state(trainer: L.Trainer) -> dict[str, Any]:
    """Global (Python, NumPy, torch, CUDA) and training-dataset random states, as ``weights_only``-loadable
    types."""
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"]["key"] = torch.from_numpy(numpy_state["state"]["key"].astype(np.int64))
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch.cuda"] = torch.cuda.get_rng_state_all()
    dataset = _train_dataset(trainer)
    if dataset is not None:
        state["train_dataset"] = [_source_state(s) for s in _random_sources(dataset)]
    return state


def restore_random_state(trainer: L.Trainer, state: dict[str, Any]) -> None:
    """Inverse of :func:`collect_random_state` (the dataset part only if it has as many generators)."""
    random.setstate(state["python"])
    numpy_state = dict(state["numpy"], state=dict(state["numpy"]["state"]))
    numpy_state["state"]["key"] = numpy_state["state"]["key"].numpy().astype(np.uint32)
    np.random.set_state(numpy_state)
    torch.set_rng_state(state["torch"])
    if "torch.cuda" in state and torch.cuda.is_available():
        for index, cuda_state in enumerate(state["torch.cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, index)
    dataset = _train_dataset(trainer)
    if dataset is not None and "train_dataset" in state:
        if callable(getattr(dataset, "_seed", None)):
            dataset._seed()  # the datasets seed once per process on first use: do it now, then overwrite
        sources = _random_sources(dataset)
        if len(sources) == len(state["train_dataset"]):
            for source, saved in zip(sources, state["train_dataset"], strict=True):
                _set_source_state(source, saved)


def _restarts_after_last_batch(checkpoint: dict[str, Any]) -> bool:
    """Whether the checkpoint was written after an epoch's last batch but before its ``on_train_epoch_end``
    (``ModelCheckpoint`` saving at validation end): Lightning then finishes that epoch again, creating one
    more data-loader iterator, before the next epoch starts."""
    loop = checkpoint.get("loops", {}).get(_FIT_LOOP, {})
    epochs = loop.get("epoch_progress", {}).get("total", {})
    batches = loop.get("epoch_loop.batch_progress", {})
    return epochs.get("processed", 0) < epochs.get("started", 0) and bool(batches.get("is_last_batch"))


class RandomStateCheckpoint(L.Callback):
    """Stores the random state in every checkpoint so that ``fit --ckpt_path`` continues exactly.

    Lightning restores weights, optimizers, schedulers and loop counters, but not the random generators that
    choose the shuffling order, dropout masks and augmentations. This callback saves the Python, NumPy,
    torch (and CUDA) generators and those of the training dataset (its own generators and its Albumentations
    pipelines) and restores them when resuming, just before the next epoch's data loader is created.

    Exact for single-process training from end-of-epoch checkpoints with ``data.num_workers: 0`` (worker
    processes keep their own generators). Under DDP the data order is exact anyway (Lightning's
    ``DistributedSampler`` derives it from the seed and the epoch); every rank restores rank 0's state.
    """

    _KEY = "random_state"

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        checkpoint[self._KEY] = collect_random_state(trainer)

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        if self._KEY not in checkpoint:
            return
        restore_random_state(trainer, checkpoint[self._KEY])
        self._pending = checkpoint[self._KEY] if _restarts_after_last_batch(checkpoint) else None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._pending is not None:  # the first fresh epoch after finishing the restored one
            restore_random_state(trainer, self._pending)
            self._pending = None
