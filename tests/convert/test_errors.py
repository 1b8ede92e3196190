"""Broken or foreign files give one clear error naming every problem; nothing in a file is ever executed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from apd_lightning import convert
from apd_lightning.convert import ConversionError
from apd_lightning.weights import MissingWeightsError

from .helpers import OFFICIAL_KEYS, official_state, random_state

MARKER_NAME = "code_ran.txt"


def _plant_marker(path: str) -> None:
    Path(path).write_text("this ran while loading")


class CodeInPickle:
    """Unpickling this calls ``_plant_marker``: what a malicious "weights" file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return _plant_marker, (self.marker,)


@pytest.fixture(scope="module")
def g_a() -> dict[str, torch.Tensor]:
    return official_state("qmupd_net_G_A", 7)


def _convert(tmp_path: Path, state, name: str = "200_net_G_A.pth", kind: str = "qmupd"):
    path = tmp_path / name
    torch.save(state, path)
    return convert.convert_files(kind, [path])


@pytest.mark.parametrize(
    "content", [os.urandom(4096), b"this is a text file\n", b""], ids=["random-bytes", "text", "empty"]
)
def test_garbage_is_not_a_weights_file(tmp_path, content):
    path = tmp_path / "200_net_G_A.pth"
    path.write_bytes(content)
    with pytest.raises(ConversionError, match="is not a PyTorch weights file written by torch.save"):
        convert.convert_files("qmupd", [path])


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_pickle_with_code_is_refused_unread(tmp_path, legacy):
    marker = tmp_path / MARKER_NAME
    path = tmp_path / "200_net_G_A.pth"
    torch.save({"model0.1.weight": CodeInPickle(marker)}, path, _use_new_zipfile_serialization=not legacy)
    expected = r"refers to Python code or objects \(.*_plant_marker\).*nothing in it ran"
    with pytest.raises(ConversionError, match=expected):
        convert.convert_files("qmupd", [path])
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file really carries code: a plain load runs it
    assert marker.exists()


def test_missing_unexpected_and_misshaped_keys_are_all_listed(tmp_path, g_a):
    state = dict(g_a)
    del state["model.12.bias"]
    state["model.99.weight"] = torch.zeros(1)
    state["model0.4.weight"] = torch.zeros(128, 64, 5, 5)
    with pytest.raises(ConversionError) as error:
        _convert(tmp_path, state)
    message = str(error.value)
    assert "200_net_G_A.pth does not match the official QMUPD style generator" in message
    assert "missing (1): model.12.bias" in message
    assert "unexpected (1): model.99.weight" in message
    assert "wrong shape (1): model0.4.weight (128, 64, 5, 5) instead of (128, 64, 3, 3)" in message


def test_a_value_that_is_not_a_tensor_is_named(tmp_path, g_a):
    state = dict(g_a) | {"model.0.bias": [1.0, 2.0]}
    with pytest.raises(ConversionError, match=r"not tensors \(1\): model.0.bias \(list\)"):
        _convert(tmp_path, state)


def test_a_file_that_is_not_a_dict(tmp_path):
    with pytest.raises(ConversionError, match="holds a list, not a dict of tensors"):
        _convert(tmp_path, [torch.zeros(1)])


def test_dataparallel_prefix_gets_a_hint(tmp_path, g_a):
    with pytest.raises(ConversionError, match="DataParallel 'module.' prefix"):
        _convert(tmp_path, {f"module.{k}": v for k, v in g_a.items()})


def test_nested_files_report_whole_missing_or_foreign_nets():
    layout = convert.layout_for("apdrawinggan")
    gen = official_state("apdrawinggan_net_gen", 3)
    hair = gen.pop("GLHair")
    gen["GLHat"] = hair
    del gen["GLNose"]["model.model.3.bias"]
    with pytest.raises(ConversionError) as error:
        convert.convert_state(layout, {"gen": convert.flatten_official(gen, True)}, {"gen": "300_net_gen.pt"})
    message = str(error.value)
    assert "300_net_gen.pt does not match the official APDrawingGAN generators" in message
    assert "missing nets (1): GLHair (34 tensors)" in message
    assert "unexpected nets (1): GLHat (34 tensors)" in message
    assert "missing (1): GLNose.model.model.3.bias" in message


def test_the_generator_file_is_required():
    layout = convert.layout_for("apdrawinggan")
    dis = convert.flatten_official(official_state("apdrawinggan_net_dis", 4), True)
    with pytest.raises(ConversionError, match=r"no APDrawingGAN generators .* file given \(its name ends in net_gen"):
        convert.convert_state(layout, {"dis": dis})


def test_file_roles_come_from_the_released_names_or_role_equals_path(tmp_path):
    layout = convert.layout_for("qmupd")
    assert convert.assign_roles(layout, ["x/200_net_G_A.pth", "latest_net_D_A.pth", "G_B=renamed.bin"]) == {
        "G_A": Path("x/200_net_G_A.pth"),
        "D_A": Path("latest_net_D_A.pth"),
        "G_B": Path("renamed.bin"),
    }
    with pytest.raises(ConversionError, match=r"cannot tell which qmupd file weights.pth is.*\*_net_G_A.pt\(h\)"):
        convert.assign_roles(layout, ["weights.pth"])
    with pytest.raises(ConversionError, match="two files for G_A"):
        convert.assign_roles(layout, ["a_net_G_A.pth", "G_A=b.pth"])


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(MissingWeightsError, match="weights file not found: .*nowhere_net_gen.pt"):
        convert.convert_files("apdrawinggan", [tmp_path / "nowhere_net_gen.pt"])


def test_lpips_file_with_other_names_is_rejected_not_silently_skipped(tmp_path):
    """torchmetrics loads LPIPS files with strict=False: a wrong file would leave random linear layers."""
    shapes = {f"lin{k}.model.0.weight": [1, c, 1, 1] for k, c in enumerate((64, 192, 384, 256, 256))}
    with pytest.raises(ConversionError, match=r"missing \(5\): lin0.model.1.weight"):
        _convert(tmp_path, random_state(shapes, 0), "alex.pth", "lpips")


def test_command_line_errors_are_one_line_messages_and_exit_code_1(tmp_path, capsys):
    from apd_lightning.cli import main

    bad = tmp_path / "200_net_G_A.pth"
    bad.write_bytes(b"nope")
    assert main(["convert-weights", "--kind", "qmupd", str(bad), "--out", str(tmp_path / "x.ckpt")]) == 1
    assert "convert-weights: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.ckpt").exists()
    existing = tmp_path / "existing.pth"
    existing.write_bytes(b"keep me")
    lpips = tmp_path / "alex.pth"
    torch.save(
        random_state({f"lin{k}.model.1.weight": [1, c, 1, 1] for k, c in enumerate((64, 192, 384, 256, 256))}, 1), lpips
    )
    assert main(["convert-weights", "--kind", "lpips", str(lpips), "--out", str(existing)]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err and existing.read_bytes() == b"keep me"
    assert main(["convert-weights", "--kind", "lpips", str(lpips), "--out", str(existing), "--overwrite"]) == 0
    assert set(torch.load(existing, weights_only=True)) == {f"lin{k}.model.1.weight" for k in range(5)}


def test_every_released_file_kind_has_a_layout():
    assert set(OFFICIAL_KEYS) == {
        "apdrawinggan_net_gen",
        "apdrawinggan_net_dis",
        "qmupd_net_G_A",
        "qmupd_net_G_B",
        "qmupd_net_D_A",
    }
    with pytest.raises(ValueError, match="unknown kind 'cyclegan'"):
        convert.layout_for("cyclegan")
