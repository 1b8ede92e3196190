"""UPD's truncation T: quantise a drawing to 6 bits so the reverse generator must work from visible lines."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

#: The reference's quantisation step: 255 / 8, giving 64 levels over [-1, 1].
TRUNCATION_SCALE = 31.875

TruncationGradient = Literal["detach", "straight_through"]


def truncate(drawing: Tensor, scale: float = TRUNCATION_SCALE, gradient: TruncationGradient = "detach") -> Tensor:
    """T(z) = floor((z + 1)·a)/a − 1: with ``a = 31.875``, 64 levels from −1 to 0.976 (white).

    Args:
        drawing: any shape, values in [-1, 1].
        scale: ``a``; the number of levels is ``floor(2a) + 1``.
        gradient: ``detach`` (the reference: its ``.int()`` cuts the graph, so the truncation loss trains only
            the reverse generator) or ``straight_through`` (identity gradient, so the generator is also pushed
            to keep the reconstruction information visible; an ablation).

    Returns:
        The quantised drawing, same shape.

    Example:
        >>> truncate(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.0000, -0.0275,  0.9765])
    """
    quantised = torch.floor((drawing.detach() + 1) * scale) / scale - 1
    if gradient == "detach":
        return quantised
    if gradient == "straight_through":
        return drawing + (quantised - drawing.detach())
    raise ValueError(f"unknown truncation gradient {gradient!r}; choose 'detach' or 'straight_through'")


class Truncation(nn.Module):
    """Module form of :func:`truncate`."""

    def __init__(self, scale: float = TRUNCATION_SCALE, gradient: TruncationGradient = "detach") -> None:
        super().__init__()
        if gradient not in ("detach", "straight_through"):
            raise ValueError(f"unknown truncation gradient {gradient!r}; choose 'detach' or 'straight_through'")
        self.scale = scale
        self.gradient = gradient

    def forward(self, drawing: Tensor) -> Tensor:
        return truncate(drawing, self.scale, self.gradient)
