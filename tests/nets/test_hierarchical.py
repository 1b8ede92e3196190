"""APDrawingGAN's hierarchical generator and its discriminator set: paper parameter counts, shapes, sizes."""

import pytest
import torch

from apd_lightning.nets import (
    APDrawingDiscriminators,
    FusionNet,
    HierarchicalGenerator,
    PatchDiscriminator,
    RegionLayout,
    UNetGenerator,
)
from apd_lightning.ops.face_parts import FacePart
from tests.builders import assert_every_parameter_gets_a_finite_gradient


def _landmarks(size: int, batch: int = 2) -> torch.Tensor:
    base = torch.tensor([[194.0, 248], [314, 249], [261, 312], [209, 368], [302, 371]]) * size / 512
    return base.expand(batch, 5, 2).clone()


def _mask(size: int, batch: int = 2) -> torch.Tensor:
    mask = torch.zeros(batch, 1, size, size)
    mask[..., size // 8 :, size // 8 : -size // 8] = 1
    return mask


def test_paper_parameter_counts():
    gen = HierarchicalGenerator(512)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(gen.part_nets["eye_left"]) == 1_447_553  # 1.448 M in the paper's log
    assert count(gen.part_nets["hair"]) == 1_710_209  # 1.710 M
    assert count(gen.fusion) == 157_505  # 0.158 M
    assert 54.0e6 < count(gen.global_net) < 54.5e6  # pix2pix unet_256 on 512
    assert count(PatchDiscriminator(4)) == 2_766_657  # 2.767 M


@pytest.mark.parametrize("size", [64, 128, 256, 512])
def test_generator_shapes_at_each_size(size):
    gen = HierarchicalGenerator(size, global_channels=4, part_channels=4, fusion_channels=4).eval()
    with torch.no_grad():
        out = gen(torch.rand(1, 3, size, size) * 2 - 1, _landmarks(size, 1), _mask(size, 1))
    assert gen.global_net.num_downs == {64: 5, 128: 6, 256: 7, 512: 8}[size]
    assert out.drawing.shape == (1, 1, size, size)
    assert out.drawing.abs().max() <= 1
    assert out.parts[FacePart.HAIR].shape == (1, 1, size, size)
    assert out.composite.shape == (1, 1, size, size)


def test_generator_rejects_bad_sizes():
    with pytest.raises(ValueError, match="power of two"):
        HierarchicalGenerator(100)
    gen = HierarchicalGenerator(64, 4, 4, 4)
    with pytest.raises(ValueError, match="must be 64×64"):
        gen(torch.zeros(1, 3, 128, 128), _landmarks(128, 1), _mask(128, 1))
    with pytest.raises(ValueError, match="divisible"):
        UNetGenerator(num_downs=3)(torch.zeros(1, 3, 20, 20))


def test_every_parameter_gets_a_finite_gradient():
    photo, landmarks, mask = torch.rand(2, 3, 64, 64) * 2 - 1, _landmarks(64), _mask(64)
    generator = HierarchicalGenerator(64, global_channels=4, part_channels=4, fusion_channels=4)
    assert_every_parameter_gets_a_finite_gradient(generator, lambda g: g(photo, landmarks, mask).drawing)
    assert_every_parameter_gets_a_finite_gradient(FusionNet(4), lambda f: f(torch.rand(2, 2, 32, 32)))
    discriminators = APDrawingDiscriminators(64, base_channels=4, local_num_layers=2)
    layout = RegionLayout.from_batch(landmarks, mask)
    drawing = torch.rand(2, 1, 64, 64) * 2 - 1

    def judge(d):
        return d(photo, drawing, layout.regions(photo), layout.regions(drawing))

    assert_every_parameter_gets_a_finite_gradient(discriminators, judge)
