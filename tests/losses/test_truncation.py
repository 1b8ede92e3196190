"""UPD's truncation: 64 levels, both gradient modes."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.losses import (
    Truncation,
    truncate,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_truncation_has_64_levels_from_minus_one_to_0976():
    levels = truncate(torch.linspace(-1, 1, 100_001)).unique()
    assert len(levels) == 64
    assert levels.min().item() == -1.0 and levels.max().item() == pytest.approx(63 / 31.875 - 1)
    assert levels.max().item() == pytest.approx(0.976, abs=1e-3)
    assert torch.allclose(levels.diff(), torch.full((63,), 1 / 31.875))


def test_truncation_gradient_modes():
    x = (torch.rand(2, 1, 8, 8, dtype=torch.float64) * 2 - 1).requires_grad_()
    detached = truncate(x, gradient="detach")
    assert not detached.requires_grad  # the reference: no gradient reaches G through T
    straight = truncate(x, gradient="straight_through")
    assert torch.equal(straight, detached)  # same values
    (grad,) = torch.autograd.grad((straight * 3).sum(), x)
    assert torch.equal(grad, torch.full_like(x, 3.0))  # identity gradient
    assert torch.equal(Truncation(gradient="straight_through")(x), straight)
    with pytest.raises(ValueError, match="truncation gradient"):
        truncate(x, gradient="round")
