"""The ResNet generators G and F of UPD / QMUPD (and their drawing D): shapes, style input, official state-dict
names, parameter counts, the optional style modulation (off in the reference, so released weights load
unchanged)."""

from __future__ import annotations

import json

import pytest
import torch

from apd_lightning.nets import (
    QMUPDDiscriminators,
    ResnetGenerator,
    StyleDiscriminator,
    StyleGenerator,
)
from tests.builders import ROOT, assert_every_parameter_gets_a_finite_gradient

pytestmark = pytest.mark.usefixtures("one_thread")

#: State-dict names and shapes of the released QMUPD 200_net_G_A / G_B / D_A files.
OFFICIAL_KEYS = json.loads((ROOT / "tests" / "fixtures" / "official_keys.json").read_text())


def _meta_state(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {name: torch.empty(shape, device="meta") for name, shape in shapes.items()}


@pytest.mark.parametrize("size", [64, 128, 256])
def test_generators_shapes(size):
    g = StyleGenerator(base_channels=4, num_blocks=2)
    f = ResnetGenerator(base_channels=4, num_blocks=2)
    photo = torch.rand(2, 3, size, size) * 2 - 1
    drawing = g(photo, torch.eye(3)[:2])
    assert drawing.shape == (2, 1, size, size) and drawing.abs().max() <= 1
    assert f(drawing).shape == (2, 3, size, size)


def test_resize_upsampling_keeps_the_shapes_and_has_no_transposed_conv():
    reference, resize = (StyleGenerator(base_channels=4, num_blocks=1, upsampling=u) for u in ("transposed", "resize"))
    photo = torch.rand(2, 3, 32, 32) * 2 - 1
    assert resize(photo, torch.eye(3)[:2]).shape == reference(photo, torch.eye(3)[:2]).shape == (2, 1, 32, 32)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in resize.modules())
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in reference.modules()) == 2
    with pytest.raises(ValueError, match="upsampling must be 'transposed' or 'resize'"):
        ResnetGenerator(base_channels=4, num_blocks=1, upsampling="bilinear")


def test_style_changes_the_drawing_and_bad_inputs_raise():
    torch.manual_seed(0)
    g = StyleGenerator(base_channels=4, num_blocks=1)
    photo = torch.rand(1, 3, 32, 32)
    assert not torch.allclose(g(photo, torch.tensor([[1.0, 0, 0]])), g(photo, torch.tensor([[0.0, 1, 0]])))
    with pytest.raises(ValueError, match="divisible by 4"):
        g(torch.rand(1, 3, 30, 30), torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"style must be \(B, 3\)"):
        g(photo, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        ResnetGenerator(base_channels=4, num_blocks=1)(photo)


def test_full_size_shapes_and_parameter_counts_on_meta():
    with torch.device("meta"):
        g, f, d, all_d = StyleGenerator(), ResnetGenerator(), StyleDiscriminator(512), QMUPDDiscriminators(512)
        patch, style = d(torch.empty(1, 1, 512, 512))
        drawing = g(torch.empty(1, 3, 512, 512), torch.empty(1, 3))

    def count(net):
        return sum(p.numel() for p in net.parameters()) / 1e6

    assert patch.shape == (1, 1, 62, 62) and style.shape == (1, 3) and drawing.shape == (1, 1, 512, 512)
    assert (round(count(g), 2), round(count(f), 2), round(count(d), 2), round(count(all_d), 1)) == (
        11.97,
        11.37,
        9.45,
        20.5,
    )  # spec §2 and §7


@pytest.mark.parametrize(
    ("key", "make"),
    [
        ("qmupd_net_G_A", StyleGenerator),
        ("qmupd_net_G_B", ResnetGenerator),
        ("qmupd_net_D_A", lambda: StyleDiscriminator(512)),
    ],
)
def test_official_state_dict_names_and_shapes_load_strictly(key, make):
    with torch.device("meta"):
        net = make()
    net.load_state_dict(_meta_state(OFFICIAL_KEYS[key]), strict=True, assign=True)


@pytest.mark.parametrize(
    ("norm_layer", "upsampling"), [("instance", "transposed"), ("batch", "transposed"), ("instance", "resize")]
)
def test_every_parameter_gets_a_finite_gradient(norm_layer, upsampling):
    photo, style = torch.rand(2, 3, 32, 32) * 2 - 1, torch.eye(3)[:2]
    g = StyleGenerator(base_channels=4, num_blocks=2, norm_layer=norm_layer, upsampling=upsampling)
    assert_every_parameter_gets_a_finite_gradient(g, lambda net: net(photo, style))
    f = ResnetGenerator(base_channels=4, num_blocks=2, norm_layer=norm_layer, upsampling=upsampling)
    assert_every_parameter_gets_a_finite_gradient(f, lambda net: net(torch.rand(2, 1, 32, 32) * 2 - 1))


def test_style_modulation_off_by_default_with_the_reference_keys_only():
    generator = StyleGenerator(base_channels=4, num_blocks=1)
    assert generator.style_modulation is None
    assert not [k for k in generator.state_dict() if k.startswith("style_modulation")]


def test_style_modulation_starts_as_the_reference_then_reaches_every_position():
    torch.manual_seed(0)
    reference = StyleGenerator(base_channels=4, num_blocks=1)
    modulated = StyleGenerator(base_channels=4, num_blocks=1, style_modulation=True)
    assert {k for k in modulated.state_dict()} - {k for k in reference.state_dict()} == {
        "style_modulation.weight",
        "style_modulation.bias",
    }
    modulated.load_state_dict(reference.state_dict(), strict=False)
    photo, styles = torch.rand(3, 3, 64, 64) * 2 - 1, torch.eye(3)
    torch.testing.assert_close(modulated(photo, styles), reference(photo, styles))
    with torch.no_grad():
        modulated.style_modulation.weight.normal_()
    one = photo[:1].expand(3, -1, -1, -1)

    def centre_change(generator):  # how much style 1 -> 2 changes the drawing away from the borders
        drawings = generator(one, styles)
        return (drawings[0] - drawings[1]).abs()[..., 24:40, 24:40].mean().item()

    assert centre_change(modulated) > max(1e-3, 5 * centre_change(reference))


def test_gradients_reach_the_style_modulation():
    generator = StyleGenerator(base_channels=4, num_blocks=1, style_modulation=True)
    generator(torch.rand(2, 3, 32, 32), torch.eye(3)[:2]).mean().backward()
    assert generator.style_modulation.weight.grad is not None
    assert generator.style_modulation.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("upsampling", ["transposed", "resize"])
def test_decoder_modulation_starts_as_without_it_then_changes_the_upsampled_features(upsampling):
    torch.manual_seed(0)
    plain = StyleGenerator(base_channels=4, num_blocks=2, style_modulation=True, upsampling=upsampling)
    modulated = StyleGenerator(
        base_channels=4, num_blocks=2, style_modulation=True, upsampling=upsampling, decoder_modulation=True
    )
    assert {k for k in modulated.state_dict()} - {k for k in plain.state_dict()} == {
        f"decoder_modulation.{i}.{p}" for i in (0, 1) for p in ("weight", "bias")
    }
    assert [m.out_features for m in modulated.decoder_modulation] == [2 * 8, 2 * 4]  # 2b then b channels
    modulated.load_state_dict(plain.state_dict(), strict=False)
    photo, styles = torch.rand(3, 3, 32, 32) * 2 - 1, torch.eye(3)
    torch.testing.assert_close(modulated(photo, styles), plain(photo, styles))  # zero-initialised
    with torch.no_grad():
        modulated.decoder_modulation[1].bias[:4].fill_(1.0)  # γ = 1: the last upsampled features doubled
    assert (modulated(photo, styles) - plain(photo, styles)).abs().max() > 1e-2
    modulated(photo, styles).mean().backward()
    assert all(m.weight.grad.abs().sum() > 0 for m in modulated.decoder_modulation)
