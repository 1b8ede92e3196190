"""QMUPD networks: shapes, official state-dict names, parameter counts, HED key mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from apd_lightning.nets import (
    HED,
    QMUPDDiscriminators,
    ResnetGenerator,
    StyleDiscriminator,
    StyleGenerator,
    hed_state_dict_from_sniklaus,
    masked_region,
)

#: State-dict names and shapes of the released QMUPD 200_net_G_A / G_B / D_A files.
OFFICIAL_KEYS = json.loads((Path(__file__).parent / "official_keys.json").read_text())


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


def test_conv_style_head_needs_its_size_pool_head_does_not():
    with pytest.raises(ValueError, match="64×64"):
        StyleDiscriminator(64, base_channels=4)(torch.rand(1, 1, 128, 128))
    _, style = StyleDiscriminator(64, base_channels=4, class_head="pool")(torch.rand(1, 1, 96, 96))
    assert style.shape == (1, 3)
    with pytest.raises(ValueError, match="multiple of 32"):
        StyleDiscriminator(100)


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


def test_masked_region_known_values():
    drawing = torch.tensor([[[[-1.0, 0.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]]])
    out = masked_region(drawing, mask)
    assert torch.allclose(out, torch.tensor([[[[-1.0, 1.0]], [[1.0, 0.0]]]]))  # inside kept, outside white
    half = masked_region(torch.tensor([[[[-1.0]]]]), torch.tensor([[[[0.5]]]]))
    assert half[0, 0].item() == pytest.approx(0.0)  # soft mask: halfway to white


def _sniklaus_names(prefix: str) -> dict[str, list[int]]:
    """Key names and shapes of sniklaus/pytorch-hed's network-bsds500 (written out independently of hed.py)."""
    convs = {
        "One": [(0, 3, 64), (2, 64, 64)],
        "Two": [(1, 64, 128), (3, 128, 128)],
        "Thr": [(1, 128, 256), (3, 256, 256), (5, 256, 256)],
        "Fou": [(1, 256, 512), (3, 512, 512), (5, 512, 512)],
        "Fiv": [(1, 512, 512), (3, 512, 512), (5, 512, 512)],
    }
    names = {}
    for stage, layers in convs.items():
        for index, cin, cout in layers:
            names[f"{prefix}Vgg{stage}.{index}.weight"] = [cout, cin, 3, 3]
            names[f"{prefix}Vgg{stage}.{index}.bias"] = [cout]
        names[f"{prefix}Score{stage}.weight"] = [1, layers[-1][2], 1, 1]
        names[f"{prefix}Score{stage}.bias"] = [1]
    names[f"{prefix}Combine.0.weight"] = [1, 5, 1, 1]
    names[f"{prefix}Combine.0.bias"] = [1]
    return names


@pytest.mark.parametrize("prefix", ["net", "module"])
def test_hed_loads_sniklaus_key_names(prefix):
    state = {k: torch.full(v, float(i)) for i, (k, v) in enumerate(_sniklaus_names(prefix).items())}
    hed = HED()
    hed.load_state_dict(hed_state_dict_from_sniklaus(state), strict=True)
    assert torch.equal(hed.stages[2][5].bias, state[f"{prefix}VggThr.5.bias"])
    assert torch.equal(hed.side_outputs[3].weight, state[f"{prefix}ScoreFou.weight"])
    assert torch.equal(hed.fuse.weight, state[f"{prefix}Combine.0.weight"])


def test_hed_output_is_an_edge_probability_at_input_size():
    torch.manual_seed(0)
    edges = HED(base_channels=2)(torch.rand(2, 3, 40, 56))
    assert edges.shape == (2, 1, 40, 56) and 0 < edges.min() and edges.max() < 1
    zero = HED(base_channels=2)
    for p in zero.parameters():
        torch.nn.init.zeros_(p)
    torch.nn.init.constant_(zero.fuse.bias, 2.0)
    assert torch.allclose(zero(torch.rand(1, 3, 16, 16)), torch.sigmoid(torch.tensor(2.0)))


def test_hed_feeds_mean_free_bgr_on_the_255_scale():
    hed, seen = HED(base_channels=2), []
    hed.stages[0][0].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    red = torch.zeros(1, 3, 16, 16)
    red[:, 0] = 1.0  # RGB input in [0, 1]
    hed(red)
    assert torch.allclose(seen[0][0, :, 0, 0], torch.tensor([-104.00698793, -116.66876762, 255 - 122.67891434]))
