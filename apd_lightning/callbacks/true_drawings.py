"""Scores of a style-controlled drawing GAN against the true drawings of the validation photos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.apply_func import move_data_to_device
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn

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

    With ``report_path``, it also scores the generator on every validation photo when training starts
    (untrained) and when ``fit`` ends, prints both side by side and writes them to ``report_path`` as JSON
    (``{"photos", "untrained", "trained"}``, each a dict of the ``val/`` names without the prefix) and the
    printed text next to it (``.txt``).

    Args:
        judge_steps: training steps of the judge.
        judge_seed: seed of the judge's initialisation and batches.
        report_path: JSON file for the untrained / trained comparison; ``None``: no comparison.
    """

    def __init__(self, judge_steps: int = 300, judge_seed: int = 0, report_path: str | None = None) -> None:
        self.judge_steps, self.judge_seed = judge_steps, judge_seed
        self.report_path = report_path
        self.untrained: dict[str, float] | None = None
        self.trained: dict[str, float] | None = None
        self.photos = 0
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

    def _update(self, pl_module: L.LightningModule, batch: Any) -> None:
        eye = torch.eye(len(self.chamfer), device=batch.photo.device, dtype=batch.photo.dtype)
        for k, chamfer in enumerate(self.chamfer):
            drawing = pl_module(batch.photo, eye[k].expand(len(batch), -1))
            truth = batch.true_drawing[:, k : k + 1]
            chamfer.update(drawing, truth)
            self.accuracy.update(drawing, k)
            self.truth_accuracy.update(truth, k)

    def _compute(self) -> dict[str, torch.Tensor]:
        values = {f"chamfer_style{k + 1}": m.compute() for k, m in enumerate(self.chamfer)}
        values["chamfer"] = torch.stack(list(values.values())).mean()
        values["judge_accuracy"] = self.accuracy.compute()
        values["judge_truth_accuracy"] = self.truth_accuracy.compute()
        return values

    @torch.no_grad()
    def on_validation_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int, *_
    ) -> None:
        if trainer.sanity_checking or getattr(batch, "true_drawing", None) is None:
            return
        if self.accuracy is None:
            self._build(trainer, pl_module)
        self._update(pl_module, batch)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self.accuracy is None or not self.accuracy.count:
            return
        values = self._compute()
        truth = values["judge_truth_accuracy"]
        if truth < 0.9:
            rank_zero_warn(f"the style judge reads only {truth:.0%} of the true drawings right: its scores say little")
        pl_module.log_dict({f"val/{k}": v for k, v in values.items()}, sync_dist=True)  # already global

    # ---- the untrained / trained comparison (report_path) -------------------------------------------------
    def _score_everything(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, float] | None:
        """Scores of the generator as it is now on every validation photo, outside Lightning's loops."""
        data = trainer.datamodule
        if data is None or not hasattr(data, "val_dataloader"):
            return None
        was_training = pl_module.training
        pl_module.eval()
        for metric in self._metrics() if self.accuracy is not None else []:
            metric.reset()
        with torch.random.fork_rng(devices=[]), torch.no_grad():  # the loader's seed draw leaves training's rng
            for batch in data.val_dataloader():
                if getattr(batch, "true_drawing", None) is None:
                    break
                if self.accuracy is None:
                    self._build(trainer, pl_module)
                self._update(pl_module, move_data_to_device(batch, pl_module.device))
        pl_module.train(was_training)
        if self.accuracy is None or not self.accuracy.count:
            return None
        self.photos = int(self.accuracy.count) // len(self.chamfer)
        return {k: round(float(v), 4) for k, v in self._compute().items()}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.report_path is not None:
            self.untrained = self._score_everything(trainer, pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.report_path is None or self.untrained is None:
            return
        self.trained = self._score_everything(trainer, pl_module)
        self._report()

    @rank_zero_only
    def _report(self) -> None:
        before, after = self.untrained, self.trained
        styles = [k for k in after if k.startswith("chamfer_style")]
        chamfer = "  ".join(f"style {k[-1]} {before[k]:.2f} -> {after[k]:.2f}" for k in styles)
        ratio = after["chamfer"] / max(before["chamfer"], 1e-9)
        text = (
            f"Scores against the true drawings of {self.photos} held-out photos (untrained -> trained):\n"
            f"  chamfer distance (px): {chamfer}  mean {before['chamfer']:.2f} -> {after['chamfer']:.2f} "
            f"({ratio:.2f}x)\n"
            f"  style judge: requested style recognised in {before['judge_accuracy']:.0%} -> "
            f"{after['judge_accuracy']:.0%} of {self.photos} x {len(styles)} drawings (chance {1 / len(styles):.0%}; "
            f"true drawings {after['judge_truth_accuracy']:.0%})"
        )
        print(text)
        path = Path(self.report_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"photos": self.photos, "untrained": before, "trained": after}, indent=1) + "\n")
        path.with_suffix(".txt").write_text(text + "\n")
