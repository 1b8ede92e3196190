"""GAN objectives on discriminator logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def gan_loss(logits: Tensor, target_is_real: bool, mode: str = "vanilla") -> Tensor:
    """Mean GAN loss of a patch map against an all-real or all-fake target.

    Args:
        logits: discriminator output of any shape (raw logits, no sigmoid).
        target_is_real: whether the target label is 1 (real) or 0 (fake).
        mode: ``vanilla`` (binary cross-entropy on logits, APDrawingGAN) or ``lsgan`` (mean squared error,
            QMUPD).

    Returns:
        Scalar loss.
    """
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    raise ValueError(f"unknown GAN mode {mode!r}; choose 'vanilla' or 'lsgan'")


class GANLoss(nn.Module):
    """Module form of :func:`gan_loss`."""

    def __init__(self, mode: str = "vanilla") -> None:
        super().__init__()
        if mode not in ("vanilla", "lsgan"):
            raise ValueError(f"unknown GAN mode {mode!r}; choose 'vanilla' or 'lsgan'")
        self.mode = mode

    def forward(self, logits: Tensor, target_is_real: bool) -> Tensor:
        return gan_loss(logits, target_is_real, self.mode)
