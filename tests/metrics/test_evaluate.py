"""``python -m apd_lightning evaluate``: results on small folders (tiny stand-in networks) and its errors."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from apd_lightning.cli import main as cli_main
from apd_lightning.metrics.evaluate import EvaluationError, evaluate_folders, main
from tests.builders import write_drawings


@pytest.fixture
def folders(tmp_path):
    real, fake = tmp_path / "real", tmp_path / "fake"
    write_drawings(real, 6, size=32, seed=0)
    write_drawings(fake, 6, size=32, seed=1)
    (real / ".hidden.png").write_bytes(b"ignored")
    return real, fake


def _run(args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_all_metrics_on_pairs(folders, stand_ins, capsys):
    real, fake = folders
    code, out, _ = _run(
        [
            "--real",
            real,
            "--fake",
            fake,
            "--pairs",
            "--batch-size",
            "4",
            "--size",
            "48",
            "--inception",
            "inc.pth",
            "--alexnet",
            "alex.pth",
            "--quality",
            "q.ckpt",
        ],
        capsys,
    )
    assert code == 0
    results = json.loads(out)
    assert set(results) == {
        "fid",
        "kid",
        "kid_std",
        "kid_subset_size",
        "lpips",
        "quality",
        "quality_real",
        "num_real",
        "num_fake",
        "num_pairs",
    }
    assert (results["num_real"], results["num_fake"], results["num_pairs"]) == (6, 6, 6)
    assert results["kid_subset_size"] == 6  # adapted to the 6 drawings instead of raising
    assert all(math.isfinite(v) for v in results.values())
    assert results["fid"] > 0 and results["lpips"] > 0
    assert stand_ins == {"inception": ["inc.pth"], "alexnet": ["alex.pth"], "quality": ["q.ckpt"]}


def test_deterministic_and_independent_of_batching(folders, stand_ins):
    real, fake = folders
    first = evaluate_folders(real, fake, batch_size=4, size=32, progress=False)
    again = evaluate_folders(real, fake, batch_size=4, size=32, progress=False)
    rebatched = evaluate_folders(real, fake, batch_size=5, size=32, progress=False)
    assert first == again
    assert "lpips" not in first  # not without --pairs
    for key in ("fid", "kid", "quality", "quality_real"):
        assert rebatched[key] == pytest.approx(first[key], rel=1e-5, abs=1e-7)


def test_identical_folders(folders, stand_ins):
    real, _ = folders
    results = evaluate_folders(real, real, metrics=["fid", "lpips", "quality"], pairs=True, size=32, progress=False)
    assert abs(results["fid"]) < 1e-3 and results["lpips"] == 0
    assert results["quality"] == pytest.approx(results["quality_real"])


def test_wired_into_the_cli(folders, stand_ins, capsys):
    real, fake = folders
    args = ["evaluate", "--real", str(real), "--fake", str(fake), "--metrics", "fid", "--size", "32"]
    assert cli_main(args) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"fid", "num_real", "num_fake"}


def _expect_error(args, capsys, *needles: str) -> None:
    code, out, err = _run(args, capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evaluate: error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


def test_empty_and_missing_folders(folders, stand_ins, tmp_path, capsys):
    real, _ = folders
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".only_hidden.png").write_bytes(b"")
    _expect_error(["--real", real, "--fake", tmp_path / "empty"], capsys, "no images", "--fake")
    _expect_error(["--real", tmp_path / "nowhere", "--fake", real], capsys, "not found", "nowhere")


def test_pairs_with_different_names(folders, stand_ins, capsys):
    real, fake = folders
    shutil.move(fake / "img_02.png", fake / "other.png")
    _expect_error(
        ["--real", real, "--fake", fake, "--pairs"], capsys, "1 only in --real [img_02]", "1 only in --fake [other]"
    )


def test_pairs_with_different_sizes(folders, stand_ins, capsys):
    real, fake = folders
    write_drawings(fake, 1, size=40, prefix="img")  # overwrites img_00 at another size
    _expect_error(["--real", real, "--fake", fake, "--pairs"], capsys, "img_00.png is 32x32", "40x40")


def test_missing_weights(folders, empty_hub, tmp_path, capsys):
    real, fake = folders
    _expect_error(
        ["--real", real, "--fake", fake, "--metrics", "fid"],
        capsys,
        "pt_inception-2015-12-05-6726825d.pth",
        "github.com/mseitzer",
        "--metrics",
    )
    _expect_error(
        ["--real", real, "--fake", fake, "--metrics", "quality", "--quality", tmp_path / "q.ckpt"],
        capsys,
        "q.ckpt",
        "configs/quality.yaml",
    )
    _expect_error(["--real", real, "--fake", fake, "--pairs", "--metrics", "lpips"], capsys, "alexnet-owt-7be5be79.pth")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--metrics", "lpips"], "add --pairs"),
        (["--metrics", "fid,sharpness"], "unknown metric"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_bad_options(folders, stand_ins, capsys, extra, needle):
    real, fake = folders
    _expect_error(["--real", real, "--fake", fake, *extra], capsys, needle)


def test_fid_needs_two_images(folders, stand_ins, tmp_path):
    real, _ = folders
    write_drawings(tmp_path / "one", 1)
    with pytest.raises(EvaluationError, match="at least 2"):
        evaluate_folders(real, tmp_path / "one", metrics=["kid"], progress=False)
    only_quality = evaluate_folders(real, tmp_path / "one", metrics=["quality"], size=32, progress=False)
    assert only_quality["num_fake"] == 1 and math.isfinite(only_quality["quality"])
