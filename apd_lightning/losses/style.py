"""Style classification loss of the drawing discriminator's style head (UPD / QMUPD)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def style_classification_loss(logits: Tensor, style: Tensor, soft: bool = False) -> Tensor:
    """Cross-entropy of style logits against a style vector.

    Args:
        logits: ``(B, K)`` raw style logits.
        style: ``(B, K)`` style vectors (soft classifier outputs or one-hots).
        soft: ``True``: soft-label cross-entropy ``mean_b Σ_k s_bk · CE(logits_b, k)`` (UPD,
            ``style_loss_with_weight=1``); ``False``: hard cross-entropy with ``argmax(s)`` (QMUPD's default).

    Returns:
        Scalar loss.
    """
    if logits.ndim != 2 or style.shape != logits.shape:
        raise ValueError(f"logits and style must both be (B, K), got {tuple(logits.shape)} and {tuple(style.shape)}")
    if soft:
        return F.cross_entropy(logits, style.to(logits.dtype))
    return F.cross_entropy(logits, style.argmax(dim=1))


class StyleClassificationLoss(nn.Module):
    """Module form of :func:`style_classification_loss`."""

    def __init__(self, soft: bool = False) -> None:
        super().__init__()
        self.soft = soft

    def forward(self, logits: Tensor, style: Tensor) -> Tensor:
        return style_classification_loss(logits, style, self.soft)
