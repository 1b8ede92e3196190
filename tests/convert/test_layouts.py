"""The converter's key maps against the released key lists (names and shapes at paper widths)."""

from __future__ import annotations

import json

import pytest
import torch

from apd_lightning import convert
from apd_lightning.nets.hed import SNIKLAUS_LAYERS

from .helpers import FIXTURES, OFFICIAL_KEYS, SHARED_KEYS
from .reference_nets import (
    RefAPDrawingGenerator,
    RefClsDiscriminator,
    RefPatchD,
    RefResnetGenerator,
    RefStyle2Generator,
)

CASES = [
    ("apdrawinggan", "gen", "apdrawinggan_net_gen"),
    ("apdrawinggan", "dis", "apdrawinggan_net_dis"),
    ("qmupd", "G_A", "qmupd_net_G_A"),
    ("qmupd", "G_B", "qmupd_net_G_B"),
    ("qmupd", "D_A", "qmupd_net_D_A"),
]


@pytest.fixture(scope="module")
def layouts():
    return {kind: convert.layout_for(kind) for kind in ("apdrawinggan", "qmupd")}


def _flat(spec: dict) -> dict[str, list[int]]:
    if all(isinstance(v, dict) for v in spec.values()):
        return {f"{net}.{k}": shape for net, state in spec.items() for k, shape in state.items()}
    return spec


@pytest.mark.skipif(not SHARED_KEYS.is_file(), reason="no ../shared/spec beside the clone")
def test_fixture_copy_of_the_key_list_is_current():
    assert json.loads((FIXTURES / "official_keys.json").read_text()) == json.loads(SHARED_KEYS.read_text())


@pytest.mark.parametrize(("kind", "role", "name"), CASES)
def test_layout_expects_exactly_the_released_names_and_shapes(layouts, kind, role, name):
    expected = {k: list(v) for k, v in layouts[kind].official_shapes(role).items()}
    assert expected == _flat(OFFICIAL_KEYS[name])


@pytest.mark.parametrize("kind", ["apdrawinggan", "qmupd"])
def test_key_map_is_one_to_one(layouts, kind):
    official = list(layouts[kind].key_map.values())
    assert len(set(official)) == len(official)


def test_unet_layers_follow_the_pix2pix_nesting():
    assert convert.unet_layers(3) == {
        "model.down.0": "model.model.0",
        "model.up.1": "model.model.3",
        "model.submodule.down.1": "model.model.1.model.1",
        "model.submodule.down.2": "model.model.1.model.2",
        "model.submodule.up.1": "model.model.1.model.5",
        "model.submodule.up.2": "model.model.1.model.6",
        "model.submodule.submodule.down.1": "model.model.1.model.3.model.1",
        "model.submodule.submodule.up.1": "model.model.1.model.3.model.3",
        "model.submodule.submodule.up.2": "model.model.1.model.3.model.4",
    }


def test_hed_layers_name_every_sniklaus_layer():
    layers = SNIKLAUS_LAYERS
    assert layers["stages.0.0"] == "VggOne.0" and layers["stages.4.5"] == "VggFiv.5"
    assert layers["side_outputs.2"] == "ScoreThr" and layers["fuse"] == "Combine.0"
    assert len(layers) == 13 + 5 + 1  # VGG16's 13 convs, 5 score convs, the fusion conv


def _meta_names(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def test_reference_nets_carry_the_released_names():
    """The test references really are the released architectures (so parity against them means something)."""
    with torch.device("meta"):
        generator = RefAPDrawingGenerator(64)
        references = {
            "qmupd_net_G_A": RefStyle2Generator(64),
            "qmupd_net_G_B": RefResnetGenerator(64),
            "qmupd_net_D_A": RefClsDiscriminator(64),
        }
        discriminator = RefPatchD(4, 64)
    assert {n: _meta_names(getattr(generator, n)) for n in generator.NETS} == OFFICIAL_KEYS["apdrawinggan_net_gen"]
    assert all(_meta_names(discriminator) == spec for spec in OFFICIAL_KEYS["apdrawinggan_net_dis"].values())
    for name, net in references.items():
        assert _meta_names(net) == OFFICIAL_KEYS[name]
