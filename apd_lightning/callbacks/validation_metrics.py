"""FID / KID / LPIPS / quality score of the generated drawings on the validation split, during ``fit``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor
from torchmetrics import Metric

from ..metrics import suite


class ValidationMetrics(L.Callback):
    """Logs ``val/fid``, ``val/kid`` (+ ``val/kid_std``), ``val/lpips`` and ``val/quality`` after validation.

    The metric networks live in this callback, not in the LightningModule, so they never enter training
    checkpoints; they are loaded (offline) when fitting or validating starts, so a missing weights file fails
    before any training. FID/KID compare the generated with the real validation drawings, LPIPS compares each
    pair, the quality score rates the generated drawings. The sanity-check validation is skipped.

    Args:
        metrics: among ``fid, kid, lpips, quality``.
        inception_path: FID Inception weights (``None``: torch hub cache).
        alexnet_path: torchvision AlexNet weights for LPIPS (``None``: torch hub cache).
        quality_path: quality regressor checkpoint (``None``: ``quality.ckpt`` in the torch hub cache).
        every_n_epochs: measure on the validation runs of every n-th epoch only.
        kid_subsets: KID subsets (the subset size adapts to the validation set, at most 1000).
    """

    def __init__(
        self,
        metrics: Sequence[str] = ("fid", "kid", "lpips", "quality"),
        inception_path: str | None = None,
        alexnet_path: str | None = None,
        quality_path: str | None = None,
        every_n_epochs: int = 1,
        kid_subsets: int = 100,
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.names = suite.check_metric_names(list(metrics))
        self.paths = {"inception_path": inception_path, "alexnet_path": alexnet_path, "quality_path": quality_path}
        self.every_n_epochs = every_n_epochs
        self.kid_subsets = kid_subsets
        self.metrics: dict[str, Metric] = {}

    def drawings(self, pl_module: L.LightningModule, batch: Any) -> tuple[Tensor, Tensor]:
        """``(generated, real)`` drawings ``(B, 1, H, W)`` in [-1, 1] of a validation batch.

        The default suits :class:`~apd_lightning.data.PairedBatch` and APDrawingGAN's ``forward``; override it
        for other batch types or models.
        """
        return pl_module(batch.photo, batch.landmarks, batch.background_mask), batch.drawing

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage in ("fit", "validate") and not self.metrics:
            self.metrics = suite.build_metrics(self.names, **self.paths, kid_subsets=self.kid_subsets)

    def _active(self, trainer: L.Trainer) -> bool:
        return (
            bool(self.metrics)
            and not trainer.sanity_checking
            and (trainer.current_epoch + 1) % self.every_n_epochs == 0
        )

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active(trainer):
            for metric in self.metrics.values():
                metric.to(pl_module.device)
                metric.reset()

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not self._active(trainer):
            return
        fake, real = self.drawings(pl_module, batch)
        for name, metric in self.metrics.items():
            if name in ("fid", "kid"):
                metric.update(real, real=True)
                metric.update(fake, real=False)
            elif name == "lpips":
                metric.update(fake, real)
            else:
                metric.update(fake)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._active(trainer):
            return
        values: dict[str, Tensor] = {}
        for name, metric in self.metrics.items():
            try:
                value = metric.compute()
            except (RuntimeError, ValueError) as error:  # e.g. FID of a single validation drawing
                rank_zero_warn(f"val/{name} not logged: {error}")
                continue
            if name == "kid":
                values["val/kid"], values["val/kid_std"] = value
            else:
                values[f"val/{name}"] = value
        if values:
            # already global (torchmetrics syncs in compute); sync_dist only silences Lightning's DDP warning
            pl_module.log_dict(values, sync_dist=True)
