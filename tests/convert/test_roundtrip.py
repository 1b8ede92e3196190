"""Released names and shapes -> our checkpoint -> released names and shapes, bit for bit."""

from __future__ import annotations

import hashlib

import pytest
import torch

from apd_lightning import convert
from apd_lightning.models import QMUPD, APDrawingGAN
from apd_lightning.nets import (
    HED,
    APDrawingDiscriminators,
    HierarchicalGenerator,
    QMUPDDiscriminators,
    ResnetGenerator,
    StyleGenerator,
    hed_state_dict_from_sniklaus,
)
from apd_lightning.nets.pretrained import load_hed
from tests.builders import sniklaus_hed_shapes

from .helpers import OFFICIAL_KEYS, random_state


def identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same dtype, shape and bytes (NaN-safe, unlike torch.equal on floats)."""
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and torch.equal(a.contiguous().reshape(-1).view(torch.uint8), b.contiguous().reshape(-1).view(torch.uint8))
    )


def assert_same_official(back: dict, original: dict, spec: dict) -> None:
    assert list(back) == list(original) == list(spec)  # also in the released order
    for net, state in original.items():
        expected = spec[net] if isinstance(state, dict) and net in spec and isinstance(spec[net], dict) else None
        if expected is None:  # a flat file: ``state`` is one tensor
            assert identical(back[net], state), net
            continue
        assert list(back[net]) == list(state) == list(expected), net
        for key, tensor in state.items():
            assert identical(back[net][key], tensor), f"{net}.{key}"


@pytest.mark.parametrize("kind", ["apdrawinggan", "qmupd"])
def test_checkpoint_is_what_predict_needs_and_records_its_origin(official_files, converted, kind):
    checkpoint = torch.load(converted[kind], map_location="cpu", weights_only=True)
    assert set(checkpoint) == {"state_dict", "epoch", "global_step", "pytorch-lightning_version", convert.METADATA_KEY}
    assert "hyper_parameters" not in checkpoint  # LightningCLI would let them override the command line
    meta = checkpoint[convert.METADATA_KEY]
    assert meta["kind"] == kind and meta["fits"]["config"] == f"configs/{kind}.yaml"
    assert meta["fits"]["data.init_args.image_size"] == 512
    widths = meta["fits"]["model.init_args.generator.init_args"]
    assert widths.get("global_channels", widths.get("base_channels")) == 64
    for source in meta["sources"].values():
        path = next(p for p in official_files.values() if p.name == source["file"])
        assert source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    if kind == "qmupd":
        assert set(meta["freshly_initialised"]) == {"D_B", "D_ln", "D_le", "D_ll"}
    else:
        assert meta["freshly_initialised"] == {}


def test_apdrawinggan_round_trip_is_bit_for_bit(official_files, converted):
    state = torch.load(converted["apdrawinggan"], map_location="cpu", weights_only=True)["state_dict"]
    back = convert.to_official(convert.layout_for("apdrawinggan"), state)
    assert list(back) == ["gen", "dis"]
    for role, name in (("gen", "apdrawinggan_net_gen"), ("dis", "apdrawinggan_net_dis")):
        original = torch.load(official_files[name], map_location="cpu", weights_only=True)
        assert_same_official(back[role], original, OFFICIAL_KEYS[name])


def test_qmupd_round_trip_is_bit_for_bit(official_files, converted):
    state = torch.load(converted["qmupd"], map_location="cpu", weights_only=True)["state_dict"]
    back = convert.to_official(convert.layout_for("qmupd"), state)
    assert list(back) == ["G_A", "G_B", "D_A", "D_B", "D_ln", "D_le", "D_ll"]
    for role in ("G_A", "G_B", "D_A"):
        name = f"qmupd_net_{role}"
        original = torch.load(official_files[name], map_location="cpu", weights_only=True)
        assert list(back[role]) == list(original) == list(OFFICIAL_KEYS[name])
        assert all(identical(back[role][k], v) for k, v in original.items())


def test_converted_checkpoints_load_strictly_into_the_lightning_modules(converted):
    with torch.device("meta"):
        apd_nets = HierarchicalGenerator(512), APDrawingDiscriminators(512)
        qmupd_nets = StyleGenerator(), ResnetGenerator(), QMUPDDiscriminators(512)
    for model, kind in ((APDrawingGAN(*apd_nets), "apdrawinggan"), (QMUPD(*qmupd_nets), "qmupd")):
        state = torch.load(converted[kind], map_location="cpu", weights_only=True)["state_dict"]
        assert list(state) == list(model.state_dict())  # every key, in the module's order
        model.load_state_dict(state, strict=True, assign=True)


def test_nets_without_a_file_are_initialised_the_same_each_time(official_files):
    layout = convert.layout_for("apdrawinggan")
    gen = torch.load(official_files["apdrawinggan_net_gen"], map_location="cpu", weights_only=True)
    first, fresh = convert.convert_state(layout, {"gen": convert.flatten_official(gen, True)})
    second, _ = convert.convert_state(layout, {"gen": convert.flatten_official(gen, True)})
    assert fresh == ["dis"]
    discriminator_keys = [k for k in first if k.startswith("discriminators.")]
    assert len(discriminator_keys) == 154
    assert all(identical(first[k], second[k]) for k in discriminator_keys)
    weight = first["discriminators.global_net.model.0.weight"]
    assert 0.01 < weight.std() < 0.03  # the papers' N(0, 0.02) init, not zeros or garbage


@pytest.mark.parametrize("prefix", ["net", "module"])
def test_hed_both_key_styles_convert_and_load(tmp_path, prefix):
    original = random_state(sniklaus_hed_shapes(prefix), seed=1)
    source = tmp_path / "network-bsds500.pytorch"
    torch.save(original, source)
    state, meta = convert.convert_files("hed", [source])
    assert all(identical(state[k], v) for k, v in hed_state_dict_from_sniklaus(original).items())
    assert list(state) == list(HED().state_dict())
    back = convert.to_official(convert.hed_layout(prefix), state)["hed"]
    assert list(back) == list(original) and all(identical(back[k], v) for k, v in original.items())
    out = convert.save_converted("hed", state, meta, tmp_path / "hed.pth")
    assert identical(load_hed(out).fuse.weight, original[f"{prefix}Combine.0.weight"])


def test_lpips_linear_layers_keep_their_names_and_load_into_torchmetrics(tmp_path):
    """The v0.1 alex.pth names (lin<k>.model.1.weight) are torchmetrics' own: the conversion checks the file and
    passes it on unchanged; the official copy shipped inside torchmetrics converts to itself."""
    from pathlib import Path

    import torchmetrics.functional.image.lpips as tm_lpips

    from apd_lightning.nets.pretrained import build_lpips

    shipped = Path(tm_lpips.__file__).parent / "lpips_models" / "alex.pth"
    original = torch.load(shipped, map_location="cpu", weights_only=True)
    state, meta = convert.convert_files("lpips", [shipped])
    assert list(state) == list(original) and all(identical(state[k], v) for k, v in original.items())
    out = convert.save_converted("lpips", state, meta, tmp_path / "lpips_alex.pth")
    assert set(torch.load(out, weights_only=True)) == set(original)  # plain state dict, no metadata keys
    scaled = {k: v * 2 for k, v in state.items()}  # not the shipped values: proves the file is what gets loaded
    convert.save_converted("lpips", scaled, meta, out, overwrite=True)
    net = build_lpips(lpips_path=out, random_init=True)
    assert identical(net.lin3.model[1].weight, scaled["lin3.model.1.weight"])
