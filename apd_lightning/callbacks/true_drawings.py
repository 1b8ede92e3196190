"""Scores of a style-controlled drawing GAN against the true drawings of the validation photos."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn

from ..data.truth import labelled_drawings
from ..data.unpaired import find_unpaired
from ..metrics.chamfer import ChamferDistance
from ..metrics.style_judge import JudgedStyleAccuracy
from ..nets.style_judge import train_style_judge


class TrueDrawingScores(L.Callback):
    """Logs, on validation batches that carry ``true_drawing`` (e.g. the demo data's ``test/B_true``):

    - ``val/chamfer_style{k}``: chamfer distance (px) between G(photo, style k) and the photo's true
      style-k drawing, and ``val/chamfer`` their mean over the styles;
    - ``val/judge_accuracy``: share of the photo × style drawings that an independent style judge assigns to
      the requested style (chance: 1 / styles);
    - ``val/judge_truth_accuracy``: the judge's accuracy on the true drawings themselves (held out from its
      training; near 1 or the judge proves nothing).

    The judge is a tiny classifier trained (seconds, deterministic) at the first validation batch with true
    drawings, on the datamodule's training drawings and their style labels only: it never sees a generated
    drawing and is not the GAN's discriminator. It lives in this callback, never in checkpoints. The
    sanity-check validation is skipped; without true drawings nothing is trained or logged.

    Args:
        judge_steps: training steps of the judge.
        judge_seed: seed of the judge's initialisation and batches.
    """

    def __init__(self, judge_steps: int = 300, judge_seed: int = 0) -> None:
        self.judge_steps, self.judge_seed = judge_steps, judge_seed
        self.chamfer: list[ChamferDistance] = []
        self.accuracy: JudgedStyleAccuracy | None = None
        self.truth_accuracy: JudgedStyleAccuracy | None = None

    def _build(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        data = trainer.datamodule
        _, records = find_unpaired(data.root, "train")
        drawings, styles = labelled_drawings([r.path for r in records], [r.style for r in records], data.image_size)
        num_styles = pl_module.generator.style_dim
        with torch.inference_mode(False), torch.enable_grad():  # called inside the validation loop
            judge = train_style_judge(drawings, styles, num_styles, self.judge_steps, seed=self.judge_seed)
        self.chamfer = [ChamferDistance() for _ in range(num_styles)]
        self.accuracy, self.truth_accuracy = JudgedStyleAccuracy(judge), JudgedStyleAccuracy(judge)
        for metric in self._metrics():
            metric.to(pl_module.device)

    def _metrics(self) -> list:
        return [*self.chamfer, self.accuracy, self.truth_accuracy]

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for metric in self._metrics() if self.accuracy is not None else []:
            metric.to(pl_module.device)
            metric.reset()

    @torch.no_grad()
    def on_validation_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int, *_
    ) -> None:
        if trainer.sanity_checking or getattr(batch, "true_drawing", None) is None:
            return
        if self.accuracy is None:
            self._build(trainer, pl_module)
        eye = torch.eye(len(self.chamfer), device=batch.photo.device, dtype=batch.photo.dtype)
        for k, chamfer in enumerate(self.chamfer):
            drawing = pl_module(batch.photo, eye[k].expand(len(batch), -1))
            truth = batch.true_drawing[:, k : k + 1]
            chamfer.update(drawing, truth)
            self.accuracy.update(drawing, k)
            self.truth_accuracy.update(truth, k)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self.accuracy is None or not self.accuracy.count:
            return
        values = {f"val/chamfer_style{k + 1}": m.compute() for k, m in enumerate(self.chamfer)}
        values["val/chamfer"] = torch.stack(list(values.values())).mean()
        values["val/judge_accuracy"] = self.accuracy.compute()
        values["val/judge_truth_accuracy"] = truth = self.truth_accuracy.compute()
        if truth < 0.9:
            rank_zero_warn(f"the style judge reads only {truth:.0%} of the true drawings right: its scores say little")
        pl_module.log_dict(values, sync_dist=True)  # already global (torchmetrics syncs in compute)
