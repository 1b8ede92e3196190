"""KID on drawings: agreement with an independent NumPy implementation, subset size, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from apd_lightning.metrics import (
    DrawingKID,
)
from tests.builders import TinyFeatures, tiny_features


def numpy_kid(real: np.ndarray, fake: np.ndarray, degree: int = 3, coef: float = 1.0) -> float:
    """Unbiased MMD² with the polynomial kernel (x·y / d + coef)^degree on the full sets (equal sizes)."""

    def kernel(a, b):
        return (a @ b.T / real.shape[1] + coef) ** degree

    m = real.shape[0]
    k_rr, k_ff, k_rf = kernel(real, real), kernel(fake, fake), kernel(real, fake)
    within = k_rr.sum() - np.trace(k_rr) + k_ff.sum() - np.trace(k_ff)
    return float(within / (m * (m - 1)) - 2 * k_rf.mean())


def test_kid_matches_numpy_and_adapts_subset_size(drawings):
    real, fake = drawings
    kid = DrawingKID(feature_extractor=TinyFeatures(), subsets=5)  # default subset_size 1000 > 40 drawings
    kid.update(real, real=True)
    kid.update(fake, real=False)
    mean, std = kid.compute()
    assert kid.last_subset_size == 40
    assert mean.item() == pytest.approx(numpy_kid(tiny_features(real), tiny_features(fake)), rel=1e-4)
    assert std.item() == pytest.approx(0.0, abs=1e-6)  # every subset is the whole (permuted) set


def test_kid_is_reproducible_with_unequal_sets(drawings):
    real, fake = drawings
    values = []
    for _ in range(2):
        kid = DrawingKID(feature_extractor=TinyFeatures(), subsets=10, subset_size=30, seed=3)
        kid.update(real, real=True)
        kid.update(fake[:25], real=False)
        values.append(kid.compute())
    assert kid.last_subset_size == 25
    assert torch.isfinite(values[0][0]) and values[0][0] > 0
    torch.testing.assert_close(values[0], values[1], rtol=0, atol=0)


def test_kid_needs_two_drawings_per_set(drawings):
    real, fake = drawings
    kid = DrawingKID(feature_extractor=TinyFeatures())
    kid.update(real, real=True)
    kid.update(fake[:1], real=False)
    with pytest.raises(RuntimeError, match="at least 2"):
        kid.compute()
