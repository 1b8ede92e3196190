"""Fréchet Inception Distance between sets of real and generated drawings (torchmetrics)."""

from __future__ import annotations

import os
from typing import Any

from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance

from ..nets.pretrained import freeze, load_inception_features
from .inputs import drawing_to_unit_rgb, full_precision


class DrawingFID(FrechetInceptionDistance):
    """torchmetrics' FID fed with drawings; lower is better.

    Drawings go in as produced, ``(B, 1, H, W)`` in [-1, 1]; :func:`drawing_to_unit_rgb` turns them into
    3-channel [0, 1] images once, and the feature extractor resizes them to 299² itself. Statistics are
    accumulated in float64 and summed across processes.

    Args:
        feature_extractor: a module mapping ``(B, 3, H, W)`` images in [0, 1] to ``(B, D)`` features (give it
            a ``num_features`` attribute), used frozen; ``None`` loads the FID Inception from ``inception_path``.
        inception_path: the FID Inception weights file; ``None`` looks in the torch hub cache.
        reset_real_features: whether ``reset()`` also forgets the real drawings' statistics.
        **kwargs: torchmetrics ``Metric`` options.

    Raises:
        MissingWeightsError: no ``feature_extractor`` and the Inception weights are not on disk.

    Example:
        >>> fid = DrawingFID(inception_path="weights/pt_inception-2015-12-05-6726825d.pth")  # doctest: +SKIP
        >>> fid.update(real_drawings, real=True); fid.update(fake_drawings, real=False)  # doctest: +SKIP
        >>> fid.compute()  # doctest: +SKIP
    """

    def __init__(
        self,
        feature_extractor: nn.Module | None = None,
        inception_path: str | os.PathLike | None = None,
        reset_real_features: bool = True,
        **kwargs: Any,
    ) -> None:
        feature_extractor = freeze(
            feature_extractor if feature_extractor is not None else load_inception_features(inception_path)
        )
        super().__init__(feature=feature_extractor, reset_real_features=reset_real_features, normalize=True, **kwargs)

    def update(self, drawings: Tensor, real: bool) -> None:
        """Add ``(B, 1, H, W)`` drawings in [-1, 1] to the real or the generated set."""
        images = drawing_to_unit_rgb(drawings)
        with full_precision(images.device):
            super().update(images, real)
