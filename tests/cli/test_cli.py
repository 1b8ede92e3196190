"""The command line with APDrawingGAN and the project's own subcommands: configs parse, fit, validate,
predict, exit codes."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from apd_lightning.cli import EXTRA_COMMANDS, TRAINER_COMMANDS, help_text, main
from tests.builders import ROOT
from tests.helpers import apdrawinggan_args, read_report

CONFIGS = ROOT / "configs"
REPORT = "--trainer.callbacks+=tests.helpers.RunReport"
BASE = {
    "demo/apdrawinggan.yaml": "apdrawinggan.yaml",
    "demo/qmupd.yaml": "qmupd.yaml",
    "demo/quality.yaml": "quality.yaml",
}


def _model_configs() -> list[Path]:
    return sorted(p for p in CONFIGS.rglob("*.yaml") if "sweeps" not in p.parts and "logger" not in p.parts)


@pytest.mark.parametrize("config", _model_configs(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_config_parses(config, capsys):
    rel = str(config.relative_to(CONFIGS))
    chain = ["-c", str(CONFIGS / BASE[rel])] if rel in BASE else []
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *chain, "-c", str(config), "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"].startswith("apd_lightning.")
    assert printed["data"]["class_path"].startswith("apd_lightning.")


def test_paper_config_has_the_paper_settings(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "-c", str(CONFIGS / "apdrawinggan.yaml"), "--print_config"])
    cfg = yaml.safe_load(capsys.readouterr().out)
    model = cfg["model"]["init_args"]
    assert cfg["data"]["init_args"]["image_size"] == 512 and cfg["data"]["init_args"]["batch_size"] == 1
    assert (model["lambda_l1"], model["lambda_local"], model["lambda_dt_real_to_fake"]) == (100.0, 25.0, 0.1)
    assert model["lr"] == 2e-4 and model["betas"] == [0.5, 0.999] and cfg["trainer"]["max_epochs"] == 300


def test_fast_dev_run_fit_through_the_cli(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the demo overlay checkpoints to demo_output/, relative to here
    run = ["--trainer.fast_dev_run", "2", "--trainer.default_root_dir", str(tmp_path), REPORT]
    assert main(["fit", *apdrawinggan_args(demo_root), *run]) == 0
    assert not (tmp_path / "apdrawinggan").exists()  # a dry run claims no run folder
    report = read_report(tmp_path, "fit")
    assert report["global_step"] == 2 and report["batch_sizes"] == [2]  # fast_dev_run 2 = max_steps 2: D + G
    losses = {k: v for k, v in report["metrics"].items() if k.startswith("train/")}
    assert {"train/g_total", "train/d_total", "train/g_dt_real_to_fake"} <= set(losses)
    assert all(math.isfinite(v) for v in losses.values())


def test_image_size_follows_the_data(demo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # data.image_size 64 is passed on to the nets (the paper config says 512)
    run = ["--trainer.limit_val_batches", "1", "--trainer.default_root_dir", str(tmp_path), REPORT]
    assert main(["validate", *apdrawinggan_args(demo_root), *run]) == 0
    report = read_report(tmp_path, "validate")
    assert report["image_sizes"] == {"generator": 64}
    assert 0 <= report["metrics"]["val/l1"] <= 2 and report["metrics"]["val/chamfer"] >= 0


def test_fit_then_predict_writes_one_png_per_photo_and_refuses_to_overwrite(demo_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the demo overlay checkpoints to demo_output/checkpoints, relative to here
    fit = ["fit", *apdrawinggan_args(demo_root), "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"]
    assert main([*fit, "--trainer.limit_val_batches", "1"]) == 0
    ckpt = tmp_path / "demo_output" / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    out = tmp_path / "drawings"
    predict = [
        "predict",
        *apdrawinggan_args(demo_root),
        "--ckpt_path",
        str(ckpt),
        "--data.predict_output_dir",
        str(out),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
    ]
    capsys.readouterr()
    assert main(predict) == 0
    assert f"predict: weights from {ckpt}" in capsys.readouterr().out
    photos = sorted(p.stem for p in (demo_root / "apdrawing" / "test_single").glob("*.png"))
    written = sorted(out.glob("*.png"))
    assert [p.stem for p in written] == photos
    image = np.asarray(Image.open(written[0]))
    assert image.shape == (64, 64) and image.dtype == np.uint8
    stamp = written[0].stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="already exist"):
        main(predict)
    assert written[0].stat().st_mtime_ns == stamp
    assert main([*predict, "--data.overwrite", "true"]) == 0
    assert written[0].stat().st_mtime_ns != stamp


def test_predict_last_without_a_run_names_where_it_looked(demo_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="no .*apdrawinggan/\\*/checkpoints/last.ckpt"):
        run = ["--ckpt_path", "last", "--trainer.default_root_dir", str(tmp_path)]
        main(["predict", *apdrawinggan_args(demo_root), *run])


def test_make_demo_data_subcommand(tmp_path, capsys):
    assert main(["make-demo-data", str(tmp_path / "d"), "--size", "64", "--count", "6", "--seed", "1"]) == 0
    assert "wrote 5 train + 1 test portraits" in capsys.readouterr().out
    assert len(list((tmp_path / "d/apdrawing/data/train").glob("*.png"))) == 5


def test_unknown_command_exits_2(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def _command_lines(text: str) -> dict[str, str]:
    """``{command: description}`` of the help's indented command lines."""
    return {
        line.split()[0]: line.split(maxsplit=1)[1]
        for line in text.splitlines()
        if line.startswith("  ") and len(line.split()) > 1
    }


def test_help_lists_every_registered_command_with_a_description(capsys, monkeypatch):
    monkeypatch.setitem(EXTRA_COMMANDS, "as-string", "apd_lightning.cli:make_sheet_main")  # a plain "module:function"
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m apd_lightning <command>")
    listed = _command_lines(out)
    for name in [*TRAINER_COMMANDS, *EXTRA_COMMANDS]:
        assert len(listed.get(name, "")) > 10, f"{name} missing from --help: {listed.get(name)!r}"
    assert listed["as-string"].startswith("``make-sheet")  # the function's docstring, first line


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "tools:" in capsys.readouterr().err


def test_installed_script_name_in_usage(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/apd-lightning", "--help"])
    assert help_text().startswith("usage: apd-lightning <command>")


@pytest.mark.parametrize("name", [*EXTRA_COMMANDS, *TRAINER_COMMANDS])
def test_every_command_help_gives_an_example(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    examples = out[out.lower().index("example") :]
    assert name in examples, out[-500:]


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "apd_lightning", "make-demo-data", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and "--count" in result.stdout
