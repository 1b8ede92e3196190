"""The multi-scale Sobel edge operator (the classical stand-in for HED)."""

from __future__ import annotations

import math

import pytest
import torch

from apd_lightning.ops.edges import MultiScaleEdges, multiscale_edges


def _step(size: int = 32, batch: int = 1) -> torch.Tensor:
    image = torch.zeros(batch, 3, size, size, dtype=torch.float64)
    image[..., size // 2 :] = 1.0  # a vertical step edge
    return image


def test_edges_follow_the_step_and_stay_in_unit_range():
    edges = multiscale_edges(_step(64))
    assert edges.shape == (1, 1, 64, 64)
    assert edges.min() >= 0 and edges.max() < 1
    assert edges[0, 0, :, 31:33].min() > 0.9  # on the step
    assert edges[0, 0, :, :8].max() < 1e-3 and edges[0, 0, :, -8:].max() < 1e-3  # flat far from it
    assert multiscale_edges(torch.full((1, 3, 32, 32), 0.3)).abs().max() < 1e-6  # flat image: no edges


def test_coarser_scales_widen_the_response_and_contrast_scales_it():
    fine, wide = multiscale_edges(_step(), (1,), threshold=0), multiscale_edges(_step(), (1, 2, 4), threshold=0)
    assert wide[0, 0, 0, 11] > fine[0, 0, 0, 11] + 0.05  # 5 px from the step
    low = multiscale_edges(_step() * 0.1, (1,), threshold=0)  # Sobel step response 0.05 = contrast: tanh(1)
    assert low[0, 0, 0, 16].item() == pytest.approx(math.tanh(1), abs=0.01)


def test_slow_ramps_are_below_the_threshold_and_sharp_steps_are_not():
    ramp = torch.linspace(0, 1, 64, dtype=torch.float64).expand(1, 3, 64, 64)  # 1/64 per pixel, like shading
    assert multiscale_edges(ramp).max() == 0
    assert multiscale_edges(ramp, threshold=0)[..., 2:-2].min() > 0.2  # (replicate padding at the border)
    assert multiscale_edges(_step(64) * 0.3).max() > 0.9


def test_module_equals_function_batched_equals_single_and_gradcheck():
    image = torch.rand(3, 3, 16, 16, dtype=torch.float64)
    batched = MultiScaleEdges((1, 2))(image)
    torch.testing.assert_close(batched, multiscale_edges(image, (1, 2)))
    torch.testing.assert_close(batched[1:2], multiscale_edges(image[1:2], (1, 2)))
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: multiscale_edges(t, (1, 2)), (x,))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        multiscale_edges(torch.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match="scales"):
        multiscale_edges(torch.zeros(1, 3, 16, 16), (0,))
