"""Ground truth for scoring: true drawings of validation photos in batches, labelled drawings for the judge."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.data import DatasetError, UnpairedDataModule
from apd_lightning.data.truth import find_true_drawings, labelled_drawings, read_drawing
from tests.builders import write_unpaired_root


@pytest.fixture
def unpaired_root(tmp_path):
    """3 photos, 4 drawings, test photos ``test_0`` and ``test_1``, 48 px."""
    return write_unpaired_root(tmp_path / "unpaired")


def _write_truth(root, stems, size=48, styles=(1, 2, 3)):
    folder = root / "test" / "B_true"
    folder.mkdir(parents=True, exist_ok=True)
    for i, stem in enumerate(stems):
        for k in styles:
            drawing = np.full((size, size), 255, np.uint8)
            drawing[4 * k + i, :] = 0  # style k of photo i: a line in row 4k + i
            Image.fromarray(drawing).save(folder / f"{stem}_{k}.png")
    return folder


def test_validation_batches_carry_the_true_drawings_in_style_order(unpaired_root):
    _write_truth(unpaired_root, ["test_0", "test_1"])
    data = UnpairedDataModule(str(unpaired_root), image_size=48, batch_size=2, num_workers=0)
    data.setup("validate")
    batch = next(iter(data.val_dataloader()))
    assert batch.name == ["test_0", "test_1"]
    assert batch.true_drawing.shape == (2, 3, 48, 48)
    assert batch.true_drawing.min() == -1 and batch.true_drawing.max() == 1
    for i in range(2):
        for k in range(3):
            dark_rows = (batch.true_drawing[i, k] < 0).any(1).nonzero().flatten().tolist()
            assert dark_rows == [4 * (k + 1) + i]


def test_no_truth_folder_means_no_true_drawings_and_a_gap_is_an_error(unpaired_root, tmp_path):
    data = UnpairedDataModule(str(unpaired_root), image_size=48, batch_size=2, num_workers=0)
    data.setup("validate")
    assert next(iter(data.val_dataloader())).true_drawing is None
    _write_truth(unpaired_root, ["test_0", "test_1"], styles=(1, 3))
    with pytest.raises(DatasetError, match=r"test_0_2\.png") as error:
        data.setup("validate")
    assert "test_1_2.png" in str(error.value)
    missing = UnpairedDataModule(str(unpaired_root), image_size=48, truth_dir=str(tmp_path / "none"))
    with pytest.raises(DatasetError, match="not a folder"):
        missing.setup("validate")


def test_find_true_drawings_and_labelled_drawings(tmp_path):
    assert find_true_drawings(tmp_path / "absent", ["a"]) is None
    folder = _write_truth(tmp_path, ["a", "b"], size=16)
    found = find_true_drawings(folder, ["b", "a"])
    assert list(found) == ["b", "a"] and [p.name for p in found["a"]] == ["a_1.png", "a_2.png", "a_3.png"]
    drawing = read_drawing(found["a"][0], 8)
    assert drawing.shape == (1, 8, 8) and drawing.min() < 0 and drawing.max() == 1
    drawings, styles = labelled_drawings(
        found["a"] + found["b"][:1], [[0.9, 0.05, 0.05], [0, 1, 0], [0, 0, 1], [1, 0, 0]], 16
    )
    assert drawings.shape == (4, 1, 16, 16) and styles.tolist() == [0, 1, 2, 0] and styles.dtype == torch.int64
    with pytest.raises(ValueError, match="one style per drawing"):
        labelled_drawings(found["a"], [[1, 0, 0]], 16)
