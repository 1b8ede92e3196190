"""The multi-scale structural distance (the classical stand-in for LPIPS)."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.losses.structure import MultiScaleStructuralDistance, multiscale_structural_distance


def test_zero_for_identical_images_and_growing_with_the_difference():
    torch.manual_seed(0)
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    assert multiscale_structural_distance(image, image).abs().max() < 1e-6
    near = multiscale_structural_distance(image, (image + 0.1 * torch.randn_like(image)).clamp(-1, 1))
    far = multiscale_structural_distance(image, (image + 0.8 * torch.randn_like(image)).clamp(-1, 1))
    assert (near > 0).all() and (far > near).all() and (far <= 1).all()


def test_a_shifted_line_is_further_than_the_same_line():
    line = -torch.ones(1, 1, 32, 32)
    line[..., 10, :] = 1
    moved = line.roll(6, dims=-2)
    assert multiscale_structural_distance(line, moved) > 0.1
    assert multiscale_structural_distance(line, line) < 1e-4


def test_module_matches_function_batched_matches_single_and_gradcheck():
    torch.manual_seed(1)
    a, b = torch.rand(3, 3, 16, 16) * 2 - 1, torch.rand(3, 3, 16, 16) * 2 - 1
    out = MultiScaleStructuralDistance(levels=2)(a, b)
    assert out.shape == (3, 1, 1, 1)
    torch.testing.assert_close(out.flatten(), multiscale_structural_distance(a, b, levels=2))
    torch.testing.assert_close(out[1].flatten(), multiscale_structural_distance(a[1:2], b[1:2], levels=2))
    x = (torch.rand(1, 1, 12, 12, dtype=torch.float64) * 2 - 1).requires_grad_()
    y = torch.rand(1, 1, 12, 12, dtype=torch.float64) * 2 - 1
    assert torch.autograd.gradcheck(lambda t: multiscale_structural_distance(t, y, levels=2, window=3), (x,))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="one shape"):
        multiscale_structural_distance(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 8))
    with pytest.raises(ValueError, match="too small"):
        multiscale_structural_distance(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16), levels=4)
