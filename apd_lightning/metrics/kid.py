"""Kernel Inception Distance between sets of real and generated drawings (torchmetrics)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd
from torchmetrics.utilities.data import dim_zero_cat

from ..nets.pretrained import freeze, load_inception_features
from .inputs import drawing_to_unit_rgb, full_precision


class DrawingKID(KernelInceptionDistance):
    """torchmetrics' KID fed with drawings; ``compute()`` gives ``(mean, std)`` over subsets; lower is better.

    Two changes to torchmetrics' ``compute``: the subset size shrinks to the smaller set when a set has fewer
    than ``subset_size`` drawings (APDrawing's test split has 70) instead of raising — the size used is kept
    in ``last_subset_size`` — and subsets are drawn from a generator seeded with ``seed``, so the
    result is reproducible. The polynomial-kernel MMD is computed in float64.

    Args:
        feature_extractor: a module mapping ``(B, 3, H, W)`` images in [0, 1] to ``(B, D)`` features, used
            frozen; ``None`` loads the FID Inception from ``inception_path``.
        inception_path: the FID Inception weights file; ``None`` looks in the torch hub cache.
        subsets: number of random subsets averaged.
        subset_size: drawings per subset (at most; see above).
        seed: seed of the subset draws.
        reset_real_features: whether ``reset()`` also forgets the real drawings' features.
        **kwargs: kernel options (``degree``, ``gamma``, ``coef``) and torchmetrics ``Metric`` options.

    Raises:
        MissingWeightsError: no ``feature_extractor`` and the Inception weights are not on disk.
    """

    def __init__(
        self,
        feature_extractor: nn.Module | None = None,
        inception_path: str | os.PathLike | None = None,
        subsets: int = 100,
        subset_size: int = 1000,
        seed: int = 0,
        reset_real_features: bool = True,
        **kwargs: Any,
    ) -> None:
        feature_extractor = freeze(
            feature_extractor if feature_extractor is not None else load_inception_features(inception_path)
        )
        with warnings.catch_warnings():  # "KID will save all extracted features": that is the point
            warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
            super().__init__(
                feature=feature_extractor,
                subsets=subsets,
                subset_size=subset_size,
                reset_real_features=reset_real_features,
                normalize=True,
                **kwargs,
            )
        self.seed = seed
        self.last_subset_size: int | None = None

    def update(self, drawings: Tensor, real: bool) -> None:
        """Add ``(B, 1, H, W)`` drawings in [-1, 1] to the real or the generated set."""
        images = drawing_to_unit_rgb(drawings)
        with full_precision(images.device):
            super().update(images, real)

    def compute(self) -> tuple[Tensor, Tensor]:
        real = dim_zero_cat(self.real_features).double()
        fake = dim_zero_cat(self.fake_features).double()
        size = min(self.subset_size, real.shape[0], fake.shape[0])
        if size < 2:
            raise RuntimeError(
                f"KID needs at least 2 real and 2 generated drawings, got {real.shape[0]} and {fake.shape[0]}"
            )
        self.last_subset_size = size
        generator = torch.Generator().manual_seed(self.seed)
        scores = []
        for _ in range(self.subsets):
            pick_real = torch.randperm(real.shape[0], generator=generator)[:size].to(real.device)
            pick_fake = torch.randperm(fake.shape[0], generator=generator)[:size].to(fake.device)
            scores.append(poly_mmd(real[pick_real], fake[pick_fake], self.degree, self.gamma, self.coef))
        stacked = torch.stack(scores)
        return stacked.mean().float(), stacked.std(unbiased=False).float()
