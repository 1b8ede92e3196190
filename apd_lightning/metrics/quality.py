"""The QMUPD quality score M as a torchmetrics metric: mean predicted quality of drawings."""

from __future__ import annotations

import os
from typing import Any

from torch import Tensor, nn

from ..nets.pretrained import freeze, load_quality_net
from .inputs import full_precision
from .mean import ImageMean


class QualityScore(ImageMean):
    """Mean score of a trained quality regressor over all drawings seen; higher is better.

    Args:
        net: a module mapping ``(B, 1, H, W)`` drawings in [-1, 1] to ``(B,)`` scores, used frozen; ``None``
            loads a :class:`~apd_lightning.nets.quality.QualityNet` from ``quality_path``.
        quality_path: a ``QualityRegressor`` checkpoint or a ``QualityNet`` state dict; ``None`` looks for
            ``quality.ckpt`` in the torch hub cache.
        **kwargs: torchmetrics ``Metric`` options.

    Raises:
        MissingWeightsError: no ``net`` and the regressor file is missing.
    """

    higher_is_better = True

    def __init__(
        self, net: nn.Module | None = None, quality_path: str | os.PathLike | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.net = freeze(net if net is not None else load_quality_net(quality_path))

    def update(self, drawings: Tensor) -> None:
        """Score ``(B, 1, H, W)`` drawings in [-1, 1]."""
        if drawings.ndim != 4 or drawings.shape[1] != 1:
            raise ValueError(f"drawings must be (B, 1, H, W) in [-1, 1], got {tuple(drawings.shape)}")
        with full_precision(drawings.device):
            scores = self.net(drawings.float())
        self._add(scores)
