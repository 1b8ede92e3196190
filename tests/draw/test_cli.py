"""``python -m apd_lightning draw``: inputs, output names, the report, overwrite, exit status, bad arguments."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apd_lightning.cli import EXTRA_COMMANDS, main


def report(out: Path) -> dict[str, dict]:
    with (out / "draw_report.csv").open() as handle:
        return {Path(row["file"]).name: row for row in csv.DictReader(handle)}


@pytest.fixture
def inputs(tmp_path: Path, photos) -> Path:
    """A folder with two photos, a sub-folder, a hidden folder, a photo without a face and a non-image."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    shutil.copy(photos["small.png"], folder / "a.png")
    shutil.copy(photos["exif.jpg"], folder / "sub" / "b.jpg")
    shutil.copy(photos["small.png"], folder / ".hidden" / "c.png")
    shutil.copy(photos["noface.png"], folder / "noface.png")
    (folder / "broken.jpg").write_text("not a jpeg")
    return folder


def test_draw_writes_photo_sized_drawings_and_a_report(inputs, tmp_path, checkpoints, capsys):
    out = tmp_path / "out"
    assert "draw" in EXTRA_COMMANDS and "export" in EXTRA_COMMANDS
    code = main(["draw", str(inputs), "--ckpt", str(checkpoints["apdrawinggan"]), "--out", str(out)])
    assert code == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["a.png", "sub/b.png"]
    assert Image.open(out / "a.png").size == Image.open(inputs / "a.png").size
    assert Image.open(out / "sub" / "b.png").size == (600, 900)  # the EXIF-oriented portrait
    assert Image.open(out / "a.png").mode == "L"
    rows = report(out)
    assert set(rows) == {"a.png", "b.jpg", "noface.png", "broken.jpg"}  # nothing from the hidden folder
    assert rows["a.png"]["status"] == "drawn" and rows["a.png"]["faces"] == "1" and rows["a.png"]["outputs"] == "a.png"
    assert (rows["noface.png"]["status"], rows["noface.png"]["reason"]) == ("skipped", "no face found")
    assert rows["broken.jpg"]["status"] == "skipped" and "not a readable image" in rows["broken.jpg"]["reason"]
    printed = capsys.readouterr().out
    assert "2 drawn, 2 skipped, 0 failed" in printed and str(checkpoints["apdrawinggan"]) in printed
    assert not list(out.rglob("*.part"))


def test_existing_drawings_are_kept_unless_overwrite(inputs, tmp_path, checkpoints):
    out = tmp_path / "out"
    out.mkdir()
    Image.new("L", (4, 4), 7).save(out / "a.png")
    args = ["draw", str(inputs / "a.png"), "--ckpt", str(checkpoints["apdrawinggan"]), "--out", str(out)]
    assert main(args) == 0  # outputs that exist count as done
    assert Image.open(out / "a.png").size == (4, 4) and report(out)["a.png"]["reason"].startswith("outputs exist")
    assert main([*args, "--overwrite"]) == 0
    assert Image.open(out / "a.png").size == Image.open(inputs / "a.png").size


def test_qmupd_styles_all_faces_and_aligned_frame_name_the_files(tmp_path, photos, checkpoints, astronaut):
    from .conftest import place, textured

    group = tmp_path / "group.png"
    Image.fromarray(place(place(textured(560, 1000, 5), astronaut, 0, 20, 1.0), astronaut, 150, 560, 0.7)).save(group)
    out = tmp_path / "out"
    code = main(
        ["draw", str(group), "--ckpt", str(checkpoints["qmupd"]), "--out", str(out), "--styles", "1,0.5:0.5:0"]
        + ["--all-faces", "--frame", "aligned"]
    )
    assert code == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [f"group_face{k}_{s}.png" for k in (1, 2) for s in ("mix_0.5_0.5_0", "style1")]
    assert {Image.open(out / n).size for n in names} == {(64, 64)}
    assert report(out)["group.png"]["faces"] == "2"


def test_exit_status_is_nonzero_only_when_nothing_was_drawn(tmp_path, photos, checkpoints):
    out = tmp_path / "out"
    assert main(["draw", str(photos["noface.png"]), "--ckpt", str(checkpoints["apdrawinggan"]), "--out", str(out)]) == 1
    assert report(out)["noface.png"]["status"] == "skipped"


@pytest.mark.parametrize(
    "problem, words",
    [
        ("out_is_file", "is a file, not a folder"),
        ("missing_ckpt", "nope.ckpt: no such checkpoint file"),
        ("not_a_ckpt", "photo.png: not a PyTorch checkpoint"),
        ("style_for_apd", "single style"),
        ("no_inputs", "no photos found"),
    ],
)
def test_bad_arguments_give_one_line_and_write_nothing(tmp_path, photos, checkpoints, capsys, problem, words):
    out, ckpt, extra, source = tmp_path / "out", str(checkpoints["apdrawinggan"]), [], str(photos["small.png"])
    if problem == "out_is_file":
        out.write_text("a file")
    elif problem == "missing_ckpt":
        ckpt = str(tmp_path / "nope.ckpt")
    elif problem == "not_a_ckpt":
        ckpt = str(photos["small.png"].with_name("photo.png"))
        shutil.copy(photos["small.png"], ckpt)
    elif problem == "style_for_apd":
        extra = ["--styles", "1"]
    elif problem == "no_inputs":
        source = str(tmp_path / "empty")
        Path(source).mkdir()
    assert main(["draw", source, "--ckpt", ckpt, "--out", str(out), *extra]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("draw: error:") and words in error and "\n" not in error and "Traceback" not in error
    assert out.is_file() if problem == "out_is_file" else not out.exists()


def test_the_drawings_are_the_drawers(tmp_path, photos, checkpoints):
    from apd_lightning.draw import Drawer

    out = tmp_path / "out"
    assert main(["draw", str(photos["wide.jpg"]), "--ckpt", str(checkpoints["apdrawinggan"]), "--out", str(out)]) == 0
    with Drawer(checkpoints["apdrawinggan"]) as drawer:
        expected = drawer.draw(photos["wide.jpg"]).faces[0].drawings["drawing"]
    np.testing.assert_array_equal(np.asarray(Image.open(out / "wide.png")), expected)
