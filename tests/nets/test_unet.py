"""The pix2pix U-Net: level count, widths, dropout levels and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apd_lightning.nets import UNetGenerator
from apd_lightning.nets.blocks import Dropout
from tests.builders import assert_every_parameter_gets_a_finite_gradient


@pytest.mark.parametrize(("num_downs", "dropout_levels"), [(3, 0), (4, 1), (6, 3)])
def test_levels_widths_and_dropout(num_downs, dropout_levels):
    net = UNetGenerator(3, 1, base_channels=4, num_downs=num_downs, max_multiplier=4, dropout_levels=dropout_levels)
    downs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in downs] == [4 * min(2**i, 4) for i in range(num_downs)]
    assert sum(isinstance(m, Dropout) for m in net.modules()) == dropout_levels
    out = net(torch.rand(2, 3, 2**num_downs, 2**num_downs) * 2 - 1)
    assert out.shape == (2, 1, 2**num_downs, 2**num_downs) and out.abs().max() <= 1


@pytest.mark.parametrize("norm_layer", ["batch", "instance", "none"])
def test_every_parameter_gets_a_finite_gradient(norm_layer):
    net = UNetGenerator(3, 1, base_channels=4, num_downs=4, norm_layer=norm_layer)
    assert_every_parameter_gets_a_finite_gradient(net, lambda g: g(torch.rand(2, 3, 32, 32) * 2 - 1))
