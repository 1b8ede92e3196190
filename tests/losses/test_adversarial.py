"""GAN losses on logits."""

from __future__ import annotations

import math

import pytest
import torch

from apd_lightning.losses import GANLoss, gan_loss


def test_gan_loss_known_values():
    zeros = torch.zeros(2, 1, 3, 3)
    assert gan_loss(zeros, True).item() == pytest.approx(math.log(2))
    assert gan_loss(torch.full((4,), 3.0), True, "lsgan").item() == pytest.approx(4.0)
    assert gan_loss(torch.full((4,), 3.0), False, "lsgan").item() == pytest.approx(9.0)
    assert GANLoss("lsgan")(torch.ones(3), True).item() == 0.0
    with pytest.raises(ValueError, match="unknown GAN mode"):
        gan_loss(zeros, True, "hinge")
