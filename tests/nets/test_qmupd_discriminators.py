"""QMUPD's discriminators: shapes of both style heads, sizes, the local Ds' masked input."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.nets import (
    QMUPDDiscriminators,
    StyleDiscriminator,
    masked_region,
)
from tests.builders import assert_every_parameter_gets_a_finite_gradient

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("size", [64, 128, 256])
@pytest.mark.parametrize("head", ["conv", "pool"])
def test_discriminator_shapes(size, head):
    d = QMUPDDiscriminators(size, base_channels=4, class_head=head)
    drawing, masks = torch.rand(2, 1, size, size) * 2 - 1, torch.rand(2, 3, size, size)
    judged = d.judge_drawing(drawing, masks)
    assert judged.patch.shape == (2, 1, size // 8 - 2, size // 8 - 2)
    assert judged.style.shape == (2, 3)
    assert {k: v.shape[1] for k, v in judged.local.items()} == {"nose": 1, "eyes": 1, "lips": 1}
    assert d.judge_photo(torch.rand(2, 3, size, size)).shape == (2, 1, size // 8 - 2, size // 8 - 2)


def test_conv_style_head_needs_its_size_pool_head_does_not():
    with pytest.raises(ValueError, match="64×64"):
        StyleDiscriminator(64, base_channels=4)(torch.rand(1, 1, 128, 128))
    _, style = StyleDiscriminator(64, base_channels=4, class_head="pool")(torch.rand(1, 1, 96, 96))
    assert style.shape == (1, 3)
    with pytest.raises(ValueError, match="multiple of 32"):
        StyleDiscriminator(100)


def test_masked_region_known_values():
    drawing = torch.tensor([[[[-1.0, 0.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]]])
    out = masked_region(drawing, mask)
    assert torch.allclose(out, torch.tensor([[[[-1.0, 1.0]], [[1.0, 0.0]]]]))  # inside kept, outside white
    half = masked_region(torch.tensor([[[[-1.0]]]]), torch.tensor([[[[0.5]]]]))
    assert half[0, 0].item() == pytest.approx(0.0)  # soft mask: halfway to white


@pytest.mark.parametrize("head", ["conv", "pool"])
def test_every_parameter_gets_a_finite_gradient(head):
    drawing, masks, photo = torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    style_d = StyleDiscriminator(64, base_channels=4, class_head=head)
    assert_every_parameter_gets_a_finite_gradient(style_d, lambda d: d(drawing))
    all_d = QMUPDDiscriminators(64, base_channels=4, class_head=head)
    both = lambda d: (d.judge_drawing(drawing, masks), d.judge_photo(photo))  # noqa: E731
    assert_every_parameter_gets_a_finite_gradient(all_d, both)


def test_style_patches_judge_each_drawing_by_the_map_of_its_style():
    torch.manual_seed(0)
    d = QMUPDDiscriminators(64, base_channels=4, style_patches=True)
    drawing, masks = torch.rand(3, 1, 64, 64) * 2 - 1, torch.rand(3, 3, 64, 64)
    all_maps, _ = d.drawing(drawing)
    assert all_maps.shape == (3, 3, 6, 6)  # one real/fake map per style
    style = torch.tensor([[0.2, 0.7, 0.1], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    judged = d.judge_drawing(drawing, masks, style)
    assert judged.patch.shape == (3, 1, 6, 6)
    for i, k in enumerate([1, 0, 2]):  # the largest component picks the map
        assert torch.equal(judged.patch[i, 0], all_maps[i, k])
    with pytest.raises(ValueError, match="style_patches needs"):
        d.judge_drawing(drawing, masks)
    with pytest.raises(ValueError, match="style_patches needs"):
        d.judge_drawing(drawing, masks, style[:, :2])
    plain = QMUPDDiscriminators(64, base_channels=4)  # the papers' single map ignores the style
    assert plain.judge_drawing(drawing, masks, style).patch.shape == (3, 1, 6, 6)
