"""Sample grids (photo | generated | real) logged during training to whatever logger is configured."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image


def drawing_grid(photo: Tensor, fake: Tensor, real: Tensor | None = None, max_images: int = 4) -> Tensor:
    """One row per sample: photo | generated drawing | real drawing, as a ``(3, H', W')`` image in [0, 1].

    Args:
        photo: ``(B, 3, H, W)`` in [-1, 1].
        fake: ``(B, 1, H, W)`` in [-1, 1].
        real: ``(B, 1, H, W)`` in [-1, 1] or ``None``.
    """
    columns = [photo[:max_images], fake[:max_images].expand(-1, 3, -1, -1)]
    if real is not None:
        columns.append(real[:max_images].expand(-1, 3, -1, -1))
    tiles = torch.stack(columns, dim=1).flatten(0, 1).detach().float().cpu()
    return make_grid((tiles + 1) / 2, nrow=len(columns), padding=2, pad_value=1.0).clamp(0, 1)


def log_image(trainer: L.Trainer, key: str, image: Tensor, step: int) -> None:
    """Send an image to every logger that takes images (W&B, TensorBoard); else save a PNG in the log dir."""
    sent = False
    for logger in trainer.loggers:
        if hasattr(logger, "log_image"):  # WandbLogger
            logger.log_image(key=key, images=[image], step=step)
            sent = True
        elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
            logger.experiment.add_image(key, image, global_step=step)
            sent = True
    if not sent:  # not trainer.log_dir: it broadcasts, and under DDP only rank 0 gets here
        first = trainer.loggers[0] if trainer.loggers else None
        folder = Path(getattr(first, "log_dir", None) or trainer.default_root_dir) / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        save_image(image, folder / f"{key.replace('/', '_')}_{step:07d}.png")


class ImageGridLogger(L.Callback):
    """Logs a photo | generated | real grid every ``every_n_steps`` optimizer steps (key ``train/samples``).

    The LightningModule's ``training_step`` must return a dict with ``fake_drawing``.
    """

    def __init__(self, every_n_steps: int = 500, max_images: int = 4) -> None:
        self.every_n_steps = every_n_steps
        self.max_images = max_images

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not isinstance(outputs, dict) or "fake_drawing" not in outputs or not trainer.is_global_zero:
            return
        if batch_idx % self.every_n_steps:
            return
        real = getattr(batch, "drawing", None)
        grid = drawing_grid(batch.photo, outputs["fake_drawing"], real, self.max_images)
        log_image(trainer, "train/samples", grid, trainer.global_step)
