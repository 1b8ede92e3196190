"""UPD's asymmetric cycle: edge images, relaxed and strict cycle losses, the offline LPIPS network."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.losses import (
    edge_image,
    relaxed_cycle_loss,
    strict_cycle_loss,
)
from apd_lightning.losses.cycle import RelaxedCycleLoss
from apd_lightning.nets import HED, build_lpips

pytestmark = pytest.mark.usefixtures("one_thread")


def _lpips():
    torch.manual_seed(0)
    return build_lpips(random_init=True)


def test_edge_image_is_three_channel_signed():
    torch.manual_seed(0)
    edges = edge_image(torch.rand(2, 3, 32, 32) * 2 - 1, HED(2))
    assert edges.shape == (2, 3, 32, 32) and edges.min() >= -1 and edges.max() <= 1
    assert torch.equal(edges[:, 0], edges[:, 2])
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        edge_image(torch.rand(2, 1, 32, 32), HED(2))


def test_relaxed_cycle_is_zero_for_a_perfect_reconstruction_and_has_gradients():
    torch.manual_seed(0)
    hed, lpips = HED(2), _lpips()
    photo = torch.rand(2, 3, 64, 64) * 2 - 1
    edges = edge_image(photo, hed)
    assert relaxed_cycle_loss(photo, edges, hed, lpips).item() == pytest.approx(0.0, abs=1e-6)
    other = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_()
    loss = relaxed_cycle_loss(other, edges, hed, lpips)
    loss.backward()
    assert loss.item() > 0 and other.grad.abs().sum() > 0  # frozen nets, differentiable inputs
    assert all(p.grad is None for p in [*hed.parameters(), *lpips.parameters()] if not p.requires_grad)
    module = RelaxedCycleLoss(hed, lpips)
    assert module(other, photo).item() == pytest.approx(loss.item(), rel=1e-5)


def test_strict_cycle_is_l1():
    a, b = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    assert strict_cycle_loss(a, b).item() == pytest.approx(0.625)
    with pytest.raises(ValueError, match="same shape"):
        strict_cycle_loss(a, b[..., :1])
