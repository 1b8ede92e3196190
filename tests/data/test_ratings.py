"""Rated-drawing data (apd_lightning.data.ratings) and the synthetic rated set."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.data.io import DatasetError
from apd_lightning.data.ratings import (
    RatedDrawingsDataModule,
    degrade_drawing,
    make_rated_set_main,
    make_synthetic_ratings,
    read_ratings,
)
from tests.builders import random_drawing, write_drawings


def _rated_folder(root: Path, count: int = 6, extra_rows: list[tuple[str, str]] = ()) -> Path:
    paths = write_drawings(root, count, size=40)
    rows = [("name", "score"), *[(p.name, f"{i / count:.3f}") for i, p in enumerate(paths)], *extra_rows]
    with (root / "ratings.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return root


def test_read_ratings_in_file_order_skipping_hidden_files(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    root = _rated_folder(tmp_path, extra_rows=[(".ipynb_checkpoints/img_00-checkpoint.png", "1.0")])
    records = read_ratings(root)
    assert [p.name for p, _ in records] == [f"img_{i:02d}.png" for i in range(6)]
    assert records[3][1] == pytest.approx(0.5)


def test_every_problem_is_listed(tmp_path):
    extra = [("gone.png", "0.5"), ("img_01.png", "0.2"), ("img_02.png", "good")]
    root = _rated_folder(tmp_path, extra_rows=extra)
    (root / "img_03.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError) as error:
        read_ratings(root)
    problems = error.value.problems
    assert len(problems) == 5  # missing, rated twice (x2), not a number, unreadable
    text = str(error.value)
    for needle in ("gone.png", "not found", "rated twice", "'good'", "unreadable"):
        assert needle in text


@pytest.mark.parametrize(("content", "needle"), [(None, "not found"), ("file,rating\na.png,1\n", "header")])
def test_missing_or_malformed_csv(tmp_path, content, needle):
    if content is not None:
        (tmp_path / "ratings.csv").write_text(content)
    with pytest.raises(DatasetError, match=needle):
        read_ratings(tmp_path)


def test_datamodule_split_and_batches(tmp_path):
    root = _rated_folder(tmp_path, count=9)
    module = RatedDrawingsDataModule(str(root), image_size=32, val_fraction=0.2, batch_size=4, num_workers=0)
    module.setup("fit")
    train, val = module.datasets["train"], module.datasets["val"]
    assert (len(train), len(val)) == (7, 2)
    assert not {p for p, _ in train.records} & {p for p, _ in val.records}
    again = RatedDrawingsDataModule(str(root), image_size=32, val_fraction=0.2, num_workers=0)
    assert again.split()[1] == val.records  # the split is fixed by split_seed
    batch = next(iter(module.val_dataloader()))
    assert batch.drawing.shape == (2, 1, 32, 32) and batch.score.dtype == torch.float32
    assert batch.drawing.min() >= -1 and batch.drawing.max() <= 1 and batch.drawing.min() < 0
    assert all(name.endswith(".png") for name in batch.name)


def test_too_few_rated_drawings_for_the_split(tmp_path):
    module = RatedDrawingsDataModule(str(_rated_folder(tmp_path, count=2)), val_fraction=0.5, num_workers=0)
    with pytest.raises(DatasetError, match="too few"):
        module.setup("fit")


def test_degradation_grows_with_the_amount():
    drawing = random_drawing(np.random.default_rng(0), 64)
    np.testing.assert_array_equal(degrade_drawing(drawing, 0.0, np.random.default_rng(1)), drawing)
    damage = [
        np.abs(degrade_drawing(drawing, a, np.random.default_rng(1)).astype(float) - drawing).mean()
        for a in (0.1, 0.4, 0.7, 1.0)
    ]
    assert damage == sorted(damage) and damage[0] > 0
    with pytest.raises(ValueError, match="uint8"):
        degrade_drawing(drawing.astype(float), 0.5, np.random.default_rng(0))


def test_make_synthetic_ratings(tmp_path, capsys):
    source = tmp_path / "src"
    write_drawings(source, 3, size=32)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    Image.fromarray(np.zeros((32, 64), np.uint8)).save(pairs / "a.png")
    assert make_rated_set_main([str(source), str(tmp_path / "rated"), "--copies", "2", "--seed", "4"]) == 0
    assert "wrote 6 rated drawings" in capsys.readouterr().out
    records = read_ratings(tmp_path / "rated")
    assert len(records) == 6 and all(0 <= score <= 1 for _, score in records)
    make_synthetic_ratings(pairs, tmp_path / "halves", seed=0, copies=1, combined=True)
    assert Image.open(tmp_path / "halves" / "a_0.png").size == (32, 32)
    with pytest.raises(DatasetError, match="no images"):
        make_synthetic_ratings(tmp_path / "empty", tmp_path / "out")
