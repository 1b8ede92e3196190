"""End to end: convert, then ``predict --ckpt_path`` on demo data, and compare with the original architecture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning import convert
from apd_lightning.cli import command_target, main

from . import cases
from .helpers import ROOT, fill_plausible
from .reference_nets import RefStyle2Generator

CONFIGS = ROOT / "configs"
QUIET = [
    "--data.num_workers",
    "0",
    "--trainer.accelerator",
    "cpu",
    "--trainer.enable_progress_bar",
    "false",
    "--trainer.logger",
    "false",
]
APD_TINY = [f"--model.generator.init_args.{k}_channels={cases.APD_WIDTH}" for k in ("global", "part", "fusion")]
APD_TINY += [f"--model.discriminators.init_args.base_channels={cases.APD_WIDTH}"]


def test_convert_weights_is_a_command():
    assert command_target("convert-weights") == "apd_lightning.convert:main"
    with pytest.raises(SystemExit) as exit_info:
        main(["convert-weights", "--help"])
    assert exit_info.value.code == 0


def _uint8(drawing: torch.Tensor) -> np.ndarray:
    return ((drawing[0, 0].clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).numpy()


def _paired_inputs(root: Path) -> tuple[str, torch.Tensor, list[list[int]], torch.Tensor]:
    """The one test portrait of the demo data, read independently of apd_lightning.data."""
    pair = next((root / "apdrawing" / "data" / "test").glob("*.png"))
    photo = np.asarray(Image.open(pair).convert("RGB"))[:, :512]
    landmarks = [
        [int(v) for v in line.split()]
        for line in (root / "apdrawing" / "landmark" / "ALL" / f"{pair.stem}.txt").read_text().splitlines()
    ]
    mask = np.asarray(Image.open(root / "apdrawing" / "mask" / "ALL" / f"{pair.stem}.png").convert("L"))
    return (
        pair.stem,
        torch.from_numpy(photo.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1,
        landmarks,
        torch.from_numpy(mask.copy())[None, None].float() / 255,
    )


def test_apdrawinggan_predict_with_converted_weights_draws_like_the_original(demo512, tmp_path, monkeypatch):
    """A tiny-width conversion (the key structure is the paper's), drawn by the CLI in eval and train mode."""
    monkeypatch.chdir(tmp_path)
    reference = cases.apd_reference(seed=11).eval()
    layout = convert.apdrawinggan_layout(*[cases.APD_WIDTH] * 4)
    gen = convert.flatten_official(reference.official_state(), True)
    state, _ = convert.convert_state(layout, {"gen": gen})
    ckpt = convert.save_converted("apdrawinggan", state, {"kind": "apdrawinggan"}, tmp_path / "apd.ckpt")
    outputs = {}
    for norm in ("eval", "train"):
        outputs[norm] = tmp_path / norm
        assert (
            main(
                [
                    "predict",
                    "-c",
                    str(CONFIGS / "apdrawinggan.yaml"),
                    "--data.root",
                    str(demo512 / "apdrawing"),
                    *QUIET,
                    *APD_TINY,
                    "--ckpt_path",
                    str(ckpt),
                    "--model.inference_norm",
                    norm,
                    "--data.predict_output_dir",
                    str(outputs[norm]),
                ]
            )
            == 0
        )
    name, photo, landmarks, mask = _paired_inputs(demo512)
    with torch.no_grad():
        expected = _uint8(reference(photo, landmarks, mask))
    drawn = {norm: np.asarray(Image.open(folder / f"{name}.png")).astype(int) for norm, folder in outputs.items()}
    assert expected.std() > 20  # an informative drawing, not a flat page
    assert np.abs(drawn["eval"] - expected).max() <= 1
    assert np.abs(drawn["train"] - expected).mean() > 5  # --model.inference_norm train reached the generator


def test_qmupd_predict_with_converted_weights_draws_like_the_original(demo512, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    width = 4
    reference = fill_plausible(RefStyle2Generator(width), 12).eval()
    layout = convert.qmupd_layout("qmupd", width)
    state, _ = convert.convert_state(layout, {"G_A": reference.state_dict()})
    ckpt = convert.save_converted("qmupd", state, {"kind": "qmupd"}, tmp_path / "qmupd.ckpt")
    tiny = [
        f"--model.{net}.init_args.base_channels={width}" for net in ("generator", "reverse_generator", "discriminators")
    ]
    assert (
        main(
            [
                "predict",
                "-c",
                str(CONFIGS / "qmupd.yaml"),
                "--data.root",
                str(demo512 / "unpaired"),
                *QUIET,
                *tiny,
                "--ckpt_path",
                str(ckpt),
                "--data.predict_output_dir",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    photo_path = next((demo512 / "unpaired" / "test" / "A").glob("*.png"))
    photo = torch.from_numpy(np.asarray(Image.open(photo_path).convert("RGB")).copy()).permute(2, 0, 1)[None]
    photo = photo.float() / 127.5 - 1
    for k in range(3):
        style_map = torch.eye(3)[k][None, :, None, None].expand(-1, -1, 128, 128)
        with torch.no_grad():
            expected = _uint8(reference(photo, style_map))
        drawn = np.asarray(Image.open(tmp_path / "out" / f"{photo_path.stem}_style{k + 1}.png").convert("L"))
        assert expected.std() > 20
        assert np.abs(drawn.astype(int) - expected).max() <= 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["apdrawinggan", "qmupd"])
def test_paper_width_conversion_predicts_on_demo_data(converted, demo512, tmp_path, monkeypatch, kind):
    """The converted random official-shaped weights at paper width, drawn by `predict` at 512 (slow on a CPU)."""
    monkeypatch.chdir(tmp_path)
    extra = (
        ["--model.inference_norm", "train"]
        if kind == "apdrawinggan"
        else ["--model.predict_styles", '{"style2": [0.0, 1.0, 0.0]}']
    )  # one style is enough here
    data = demo512 / ("apdrawing" if kind == "apdrawinggan" else "unpaired")
    assert (
        main(
            [
                "predict",
                "-c",
                str(CONFIGS / f"{kind}.yaml"),
                "--data.root",
                str(data),
                *QUIET,
                *extra,
                "--ckpt_path",
                str(converted[kind]),
                "--data.predict_output_dir",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    written = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert written == (["demo_00001.png"] if kind == "apdrawinggan" else ["demo_00001_style2.png"])
