"""PatchGAN discriminators: patch-map sizes and inputs too small for their layers."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.nets import APDrawingDiscriminators, PatchDiscriminator
from tests.builders import assert_every_parameter_gets_a_finite_gradient


def test_patch_discriminator_map_sizes_and_too_small_inputs():
    d = PatchDiscriminator(4, base_channels=4)
    assert d(torch.zeros(1, 4, 512, 512)).shape == (1, 1, 62, 62)
    assert d(torch.zeros(1, 4, 80, 112)).shape == (1, 1, 8, 12)
    with pytest.raises(ValueError, match="too small"):
        d(torch.zeros(1, 4, 16, 16))
    with pytest.raises(ValueError, match="lower local_num_layers"):
        APDrawingDiscriminators(64, base_channels=4, local_num_layers=3)


@pytest.mark.parametrize("norm_layer", ["batch", "instance"])
def test_every_parameter_gets_a_finite_gradient(norm_layer):
    net = PatchDiscriminator(4, base_channels=4, norm_layer=norm_layer)
    assert_every_parameter_gets_a_finite_gradient(net, lambda d: d(torch.rand(2, 4, 64, 64)))
