"""The chamfer distance between drawings against a brute-force reference (all pairs of dark pixels, NumPy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from apd_lightning.metrics import ChamferDistance, chamfer_distance


def brute_force(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.0) -> np.ndarray:
    """Per image: the mean over each drawing's dark pixels of the distance to the other's nearest dark pixel, every
    pair compared, averaged over both directions; the diagonal if one drawing is blank, 0 if both are."""
    height, width = pred.shape[-2:]
    out = []
    for a, b in zip(pred[:, 0].numpy(), target[:, 0].numpy(), strict=True):
        dark_a, dark_b = np.argwhere(a < threshold), np.argwhere(b < threshold)
        if len(dark_a) == 0 and len(dark_b) == 0:
            out.append(0.0)
        elif len(dark_a) == 0 or len(dark_b) == 0:
            out.append(math.hypot(height, width))
        else:
            pairs = np.sqrt(((dark_a[:, None, :] - dark_b[None, :, :]) ** 2).sum(-1))
            out.append((pairs.min(axis=1).mean() + pairs.min(axis=0).mean()) / 2)
    return np.array(out)


def _drawings(seed: int, count: int = 4, size: tuple[int, int] = (24, 32), ink: float = 0.05) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    dark = torch.rand(count, 1, *size, generator=generator) < ink
    return torch.where(dark, -torch.rand(dark.shape, generator=generator), torch.ones(dark.shape))


def test_matches_the_brute_force_reference():
    pred, target = _drawings(0), _drawings(1, ink=0.02)
    expected = brute_force(pred, target)
    assert (expected > 1).all()  # far from zero: the drawings differ
    np.testing.assert_allclose(chamfer_distance(pred, target).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(chamfer_distance(target, pred).numpy(), expected, rtol=1e-5)  # symmetric
    assert chamfer_distance(pred, pred).abs().max() == 0


def test_blank_drawings_and_the_threshold():
    blank, lines = torch.ones(2, 1, 6, 8), _drawings(2, count=2, size=(6, 8), ink=0.3)
    both = torch.cat([blank[:1], lines[:1]]), torch.cat([blank[:1], blank[:1]])
    np.testing.assert_allclose(chamfer_distance(*both).numpy(), [0.0, 10.0])  # 10 = diagonal of 6 x 8
    np.testing.assert_allclose(chamfer_distance(*both).numpy(), brute_force(*both))
    gray = torch.full((1, 1, 6, 8), -0.5)
    gray[..., 0, 0] = -0.9
    for threshold in (0.0, -0.6):
        np.testing.assert_allclose(
            chamfer_distance(gray, lines[:1], threshold).numpy(), brute_force(gray, lines[:1], threshold), rtol=1e-5
        )


def test_metric_is_the_mean_over_all_images_seen_and_reduces_across_processes():
    pred, target = _drawings(3, count=6), _drawings(4, count=6)
    expected = brute_force(pred, target).mean()
    metric = ChamferDistance()
    metric.update(pred[:2], target[:2])
    metric.update(pred[2:], target[2:])
    assert metric.compute().item() == pytest.approx(expected, rel=1e-5)
    first, second = ChamferDistance(), ChamferDistance()
    first.update(pred[:5], target[:5])
    second.update(pred[5:], target[5:])
    first.merge_state(second)  # what DDP's sum reduction does
    assert first.compute().item() == pytest.approx(expected, rel=1e-5)
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert ChamferDistance().compute().item() == 0  # nothing seen


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        chamfer_distance(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        ChamferDistance().update(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 6))
