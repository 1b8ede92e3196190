"""Symmetric chamfer distance between line drawings (exact, SciPy EDT) as a torchmetrics ``Metric``."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..ops.distance_transform import exact_distance_transform
from .mean import ImageMean


def chamfer_distance(pred: Tensor, target: Tensor, threshold: float = 0.0) -> Tensor:
    """Per-image symmetric chamfer distance in pixels between the dark lines of two drawings.

    The mean, over the dark pixels (``< threshold``) of each drawing, of the distance to the other drawing's
    nearest dark pixel, averaged over both directions. If only one of the two drawings has dark pixels the
    distance is the image diagonal; if neither has, 0.

    Args:
        pred: ``(B, 1, H, W)`` in [-1, 1].
        target: ``(B, 1, H, W)`` in [-1, 1].
        threshold: darkness threshold in the [-1, 1] range.

    Returns:
        ``(B,)`` float distances in pixels.
    """
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[1] != 1:
        raise ValueError(f"pred and target must both be (B, 1, H, W), got {tuple(pred.shape)}, {tuple(target.shape)}")
    diagonal = math.hypot(*pred.shape[-2:])
    out = []
    for a, b in zip(pred.detach().float().cpu().numpy(), target.detach().float().cpu().numpy(), strict=True):
        dark_a, dark_b = a[0] < threshold, b[0] < threshold
        if not dark_a.any() and not dark_b.any():
            out.append(0.0)
        elif not dark_a.any() or not dark_b.any():
            out.append(diagonal)
        else:
            a_to_b = exact_distance_transform(dark_b)[dark_a].mean()
            b_to_a = exact_distance_transform(dark_a)[dark_b].mean()
            out.append(float(np.mean([a_to_b, b_to_a])))
    return torch.tensor(out, dtype=torch.float32)


class ChamferDistance(ImageMean):
    """Mean symmetric chamfer distance (pixels) over all images seen; lower is better."""

    higher_is_better = False

    def __init__(self, threshold: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold

    def update(self, pred: Tensor, target: Tensor) -> None:
        self._add(chamfer_distance(pred, target, self.threshold))
