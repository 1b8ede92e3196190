"""Output parity: converted weights give our nets the original architectures' outputs (within 1e-5 in the same
memory format; within one 8-bit grey level, 2/255 on [-1, 1], everywhere as the LightningModules run them)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apd_lightning import convert
from apd_lightning.nets import APDrawingDiscriminators, HierarchicalGenerator, StyleDiscriminator, StyleGenerator

from . import cases
from .helpers import FIXTURES, fill_plausible
from .reference_nets import RefClsDiscriminator, RefPatchD, RefStyle2Generator

TOLERANCE = 1e-5
GREY_LEVEL = 2 / 255  # one 8-bit grey level on [-1, 1]
GOLDEN = torch.load(FIXTURES / "convert_golden.pt", weights_only=True)


@pytest.fixture(scope="module")
def apd_pair():
    reference = cases.apd_reference()
    return reference, cases.apd_ours(reference)


@pytest.fixture(scope="module")
def apd_eval_outputs(apd_pair):
    reference, ours = apd_pair
    return cases.apd_outputs(reference.eval(), ours.eval())


@pytest.fixture(scope="module")
def qmupd_pair():
    return cases.qmupd_pair()


def _assert_informative(image: torch.Tensor) -> None:
    """Parity of saturated or constant outputs would prove little."""
    assert image.std() > 0.2
    assert (image.abs() > 0.999).float().mean() < 0.5


def _assert_matches_golden(image: torch.Tensor, name: str) -> None:
    golden = GOLDEN[name]
    torch.testing.assert_close(cases.pooled(image), golden["pooled"], atol=1e-4, rtol=0)
    for stat in ("mean", "std", "min", "max"):
        torch.testing.assert_close(getattr(image, stat)(), golden[stat], atol=1e-4, rtol=0)


def test_apdrawinggan_generator_eval_mode_matches_the_original(apd_eval_outputs):
    expected, actual = apd_eval_outputs
    _assert_informative(expected)
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)
    _assert_matches_golden(expected, "apdrawinggan_eval")  # the reference itself has not drifted


def test_apdrawinggan_generator_train_mode_batch_statistics_match(apd_pair, apd_eval_outputs):
    """Train-mode inference (the authors' setting) with dropout switched off: BatchNorm uses batch statistics."""
    reference, ours = apd_pair
    for net in (reference, ours):
        net.train()
        for module in net.modules():
            if isinstance(module, nn.Dropout):
                module.p = 0.0
    try:
        expected, actual = cases.apd_outputs(reference, ours)
    finally:
        for net in (reference, ours):
            for module in net.modules():
                if isinstance(module, nn.Dropout):
                    module.p = 0.5
            net.eval()
    assert (expected - apd_eval_outputs[0]).abs().max() > 0.1  # batch statistics really were used
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize(
    ("official", "ours", "channels"),
    [("G", "global_net", 3), ("GLHair", "part_nets.hair", 3), ("GCombine", "fusion", 2)],
)
def test_apdrawinggan_dropout_nets_match_in_train_mode_with_the_same_seed(apd_pair, official, ours, channels):
    reference, converted = apd_pair
    generator = HierarchicalGenerator(512, *[cases.APD_WIDTH] * 3, dropout_layer="torch")  # nn.Dropout's masks
    generator.load_state_dict(converted.state_dict())
    ref_net, our_net = getattr(reference, official).train(), generator.get_submodule(ours).train()
    x = torch.rand(1, channels, 512, 512, generator=torch.Generator().manual_seed(5)) * 2 - 1
    outputs = []
    for net in (ref_net, our_net, our_net):
        torch.manual_seed(7 if len(outputs) < 2 else 8)
        with torch.no_grad():
            outputs.append(net(x))
    ref_net.eval(), our_net.eval()
    torch.testing.assert_close(outputs[1], outputs[0], atol=TOLERANCE, rtol=0)
    assert (outputs[2] - outputs[1]).abs().max() > 1e-3  # another seed, other dropout masks: dropout is on


def test_odd_mouth_midpoint_matches_the_original():
    reference = cases.apd_reference()  # fresh nets: train-mode tests above move the shared pair's BN statistics
    ours = cases.apd_ours(reference)
    expected, actual = cases.apd_outputs(reference.eval(), ours.eval(), cases.AUTHORS_LANDMARKS)
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)


def test_apdrawinggan_discriminators_match_the_original_after_its_sigmoid():
    width = cases.APD_WIDTH
    names = ["D", *(f"DL{n}" for n in ("Eyel", "Eyer", "Nose", "Mouth", "Hair", "BG"))]
    references = {name: fill_plausible(RefPatchD(4, width), i).eval() for i, name in enumerate(names)}
    layout = convert.apdrawinggan_layout(width, width, width, width)
    gen = convert.flatten_official(cases.apd_reference().official_state(), True)
    dis = convert.flatten_official({n: r.state_dict() for n, r in references.items()}, True)
    state, fresh = convert.convert_state(layout, {"gen": gen, "dis": dis})
    assert fresh == []
    ours = APDrawingDiscriminators(512, width)
    ours.load_state_dict(
        {k.removeprefix("discriminators."): v for k, v in state.items() if k.startswith("discriminators.")}
    )
    ours.eval()
    pairs = {
        "D": (ours.global_net, 512, 512),
        "DLEyel": (ours.local_nets["eye_left"], 80, 112),
        "DLMouth": (ours.local_nets["mouth"], 80, 128),
        "DLBG": (ours.local_nets["background"], 512, 512),
    }
    for name, (net, height, width_) in pairs.items():
        x = torch.rand(1, 4, height, width_, generator=torch.Generator().manual_seed(3)) * 2 - 1
        with torch.no_grad():
            expected, logits = references[name](x), net(x)
        assert 0.01 < expected.std()  # informative
        torch.testing.assert_close(torch.sigmoid(logits), expected, atol=TOLERANCE, rtol=0)


def test_qmupd_generators_match_the_original(qmupd_pair):
    outputs = cases.qmupd_outputs(*qmupd_pair)
    for name, (expected, actual) in outputs.items():
        _assert_informative(expected)
        torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)
        _assert_matches_golden(expected, f"qmupd_{name}")


def _channels_last_drawing(generator: torch.nn.Module, photo: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """The drawing as the LightningModule makes it: channels-last weights and input (our batch-norm-kernel
    instance norm at batch 1), fp32."""
    generator = generator.to(memory_format=torch.channels_last)
    try:
        with torch.no_grad():
            return generator(photo.contiguous(memory_format=torch.channels_last), style)
    finally:
        generator.to(memory_format=torch.contiguous_format)


def test_qmupd_generator_channels_last_within_one_grey_level(qmupd_pair):
    (reference, _), ours = qmupd_pair
    photo, style, _ = cases.qmupd_inputs()
    style_map = style[:, :, None, None].expand(-1, -1, *(s // 4 for s in photo.shape[-2:]))
    with torch.no_grad():
        expected = reference(photo, style_map)
    difference = (_channels_last_drawing(ours["generator"], photo, style) - expected).abs()
    assert difference.max() <= GREY_LEVEL, f"max {difference.max():.2e}, mean {difference.mean():.2e}"


@pytest.mark.slow
def test_qmupd_generator_at_paper_width_and_size_within_one_grey_level():
    """The released architecture (width 64, 9 blocks) at 512 px: converted weights reproduce the original's
    drawing exactly in the same memory format and within one grey level channels-last (measured: max 8e-5)."""
    torch.manual_seed(0)
    reference = fill_plausible(RefStyle2Generator(64), 21).eval()
    state, _ = convert.convert_state(convert.qmupd_layout("qmupd", 64), {"G_A": reference.state_dict()})
    ours = StyleGenerator(base_channels=64).eval()
    ours.load_state_dict({k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")})
    photo = torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(22)) * 2 - 1
    style = torch.tensor([cases.STYLE])
    with torch.no_grad():
        expected = reference(photo, style[:, :, None, None].expand(-1, -1, 128, 128))
        actual = ours(photo, style)
    _assert_informative(expected)
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0)
    difference = (_channels_last_drawing(ours, photo, style) - expected).abs()
    assert difference.max() <= GREY_LEVEL, f"max {difference.max():.2e}, mean {difference.mean():.2e}"


def test_qmupd_drawing_discriminator_matches_the_original():
    width = 4
    reference = fill_plausible(RefClsDiscriminator(width), 4)
    ours = StyleDiscriminator(512, 1, width)
    ours.load_state_dict(reference.state_dict(), strict=True)  # same names: the converter's map is the identity
    layout = convert.qmupd_layout("qmupd", width)
    assert all(
        official == ours_key.removeprefix("discriminators.drawing.")
        for ours_key, (role, official) in layout.key_map.items()
        if role == "D_A"
    )
    x = torch.rand(2, 1, 512, 512, generator=torch.Generator().manual_seed(6)) * 2 - 1
    with torch.no_grad():
        (patch_ref, style_ref), (patch, style) = reference(x), ours(x)
    torch.testing.assert_close(patch, patch_ref, atol=TOLERANCE, rtol=0)
    torch.testing.assert_close(style, style_ref, atol=TOLERANCE, rtol=0)
    assert style.shape == (2, 3)
