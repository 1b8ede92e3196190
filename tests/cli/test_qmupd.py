"""QMUPD through the command line: configs parse, fast_dev_run fit, fit → checkpoint → predict PNGs."""

from __future__ import annotations

import json
import math

import pytest
import torch
import yaml
from PIL import Image

from apd_lightning.cli import main
from tests.builders import ROOT
from tests.helpers import read_report

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")]

CONFIGS = [
    ["configs/qmupd.yaml"],
    ["configs/upd.yaml"],
    ["configs/qmupd.yaml", "configs/demo/qmupd.yaml"],
    ["configs/upd.yaml", "configs/demo/qmupd.yaml"],
]
DEMO = ["-c", str(ROOT / "configs/qmupd.yaml"), "-c", str(ROOT / "configs/demo/qmupd.yaml")]


def _small(root, tmp_path) -> list[str]:
    return [
        "--data.root",
        str(root),
        "--data.image_size",
        "64",
        "--data.num_workers",
        "0",
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        "--trainer.logger",
        "false",
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.enable_model_summary",
        "false",
    ]


@pytest.mark.parametrize("configs", CONFIGS, ids=["+".join(c) for c in CONFIGS])
def test_configs_parse(configs, capsys):
    args = [arg for path in configs for arg in ("-c", str(ROOT / path))]
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *args, "--print_config"])
    assert exit_info.value.code in (0, None)
    config = yaml.safe_load(capsys.readouterr().out)
    model = config["model"]["init_args"]
    demo = "configs/demo/qmupd.yaml" in configs
    assert model["use_quality_loss"] == ("configs/qmupd.yaml" in configs and not demo)  # the demo has no M
    assert model["soft_style_labels"] == ("configs/upd.yaml" in configs)
    assert model["auxiliaries"] == ("classical" if demo else "pretrained")
    assert model["style_head_fakes"] is True  # the reference's: the D style head learns the fakes' styles too


def test_fast_dev_run_fit(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the overlay's relative output folders land in tmp_path
    # --data.image_size 64 must reach the style head (sized 128 in the demo overlay) through the CLI
    report_dir = tmp_path / "run"
    run = ["--trainer.fast_dev_run", "2", "--trainer.callbacks+=tests.helpers.RunReport"]
    assert main(["fit", *DEMO, *_small(demo_root / "unpaired", tmp_path), *run]) == 0
    report = read_report(report_dir, "fit")
    assert report["image_sizes"] == {"discriminators.drawing": 64}
    assert report["global_step"] == 2 and len(report["batch_sizes"]) == 1  # fast_dev_run 2 = max_steps 2: G + D
    losses = {k: v for k, v in report["metrics"].items() if k.startswith("train/")}
    expected = {"train/g_total", "train/d_total", "train/g_relaxed_cycle", "train/d_style_acc_fake"}
    assert expected <= set(losses) and "train/g_quality" not in losses  # the demo trains without a quality net
    assert all(math.isfinite(v) for v in losses.values())
    scores = json.loads((tmp_path / "demo_output" / "qmupd" / "scores.json").read_text())  # the overlay's report
    assert scores["photos"] == 3 and set(scores) == {"photos", "untrained", "trained"}


def test_fit_checkpoint_then_predict_writes_one_png_per_photo_and_style(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = demo_root / "unpaired"
    ckpt_dir, out = tmp_path / "ckpt", tmp_path / "drawings"
    callbacks = tmp_path / "callbacks.yaml"  # replaces the overlay's callbacks: one checkpoint into tmp_path
    callbacks.write_text(
        yaml.safe_dump(
            {
                "trainer": {
                    "callbacks": [
                        {
                            "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                            "init_args": {"dirpath": str(ckpt_dir), "save_last": True},
                        }
                    ]
                }
            }
        )
    )
    fit = main(
        [
            "fit",
            *DEMO,
            "-c",
            str(callbacks),
            *_small(root, tmp_path),
            "--trainer.max_steps",
            "1",
            "--trainer.limit_val_batches",
            "0",
        ]
    )
    assert fit == 0
    checkpoint = torch.load(ckpt_dir / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["state_dict"] and not [k for k in checkpoint["state_dict"] if k.startswith("auxiliaries.")]
    predicted = main(
        [
            "predict",
            *DEMO,
            *_small(root, tmp_path),
            "--ckpt_path",
            str(ckpt_dir / "last.ckpt"),
            "--data.predict_output_dir",
            str(out),
        ]
    )
    assert predicted == 0
    photos = sorted(p.stem for p in (root / "test" / "A").glob("*.png"))
    styles = ["style1", "style2", "style3", "mix12"]  # the demo overlay's predict_styles
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{s}_{k}.png" for s in photos for k in styles)
    first = Image.open(out / f"{photos[0]}_style1.png")
    assert first.mode == "L" and first.size == Image.open(root / "test" / "A" / f"{photos[0]}.png").size
