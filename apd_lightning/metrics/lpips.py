"""LPIPS (AlexNet, v0.1 linear layers) between paired drawings, with torchmetrics' network built offline."""

from __future__ import annotations

import os
from typing import Any

from torch import Tensor, nn

from ..nets.pretrained import build_lpips, freeze
from .inputs import drawing_to_unit_rgb, full_precision
from .mean import ImageMean


class DrawingLPIPS(ImageMean):
    """Mean LPIPS between generated and target drawings of the same photos; lower is better.

    Drawings go in as produced, ``(B, 1, H, W)`` in [-1, 1], converted once by :func:`drawing_to_unit_rgb`.
    The per-pair distances are summed in float64 (states reduce by sum across processes).

    Args:
        net: the LPIPS network ``(img1, img2, normalize=True) -> (B, 1, 1, 1)``, used frozen; ``None`` builds
            it with :func:`~apd_lightning.nets.pretrained.build_lpips` from ``alexnet_path``.
        alexnet_path: the torchvision AlexNet weights; ``None`` looks in the torch hub cache.
        **kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = False

    def __init__(
        self, net: nn.Module | None = None, alexnet_path: str | os.PathLike | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.net = freeze(net if net is not None else build_lpips(alexnet_path))

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add pairs: ``pred`` and ``target`` both ``(B, 1, H, W)`` in [-1, 1]."""
        if pred.shape != target.shape:
            raise ValueError(
                f"pred and target must have the same shape, got {tuple(pred.shape)}, {tuple(target.shape)}"
            )
        pred, target = drawing_to_unit_rgb(pred), drawing_to_unit_rgb(target)
        with full_precision(pred.device):
            distances = self.net(pred, target, normalize=True).reshape(-1)
        self._add(distances)
