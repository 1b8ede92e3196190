"""The APDrawing dataset and datamodule on tmp_path datasets in the on-disk layout."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.data import APDrawingDataModule, DatasetError, PairedBatch
from apd_lightning.data.paired import PairedDataset, find_records
from tests.builders import write_paired_sample


def _datamodule(root: Path, **kwargs) -> APDrawingDataModule:
    kwargs = {"image_size": 64, "batch_size": 2, "num_workers": 0, **kwargs}
    return APDrawingDataModule(str(root), **kwargs)


def test_batch_types_shapes_and_ranges(paired_root):
    dm = _datamodule(paired_root, flip_prob=0.0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, PairedBatch) and len(batch) == 2
    assert batch.photo.shape == (2, 3, 64, 64) and batch.drawing.shape == (2, 1, 64, 64)
    assert batch.landmarks.shape == (2, 5, 2) and batch.background_mask.shape == (2, 1, 64, 64)
    assert batch.drawing_dt.shape == (2, 2, 64, 64)
    assert -1 <= batch.photo.min() and batch.photo.max() <= 1
    assert batch.drawing.min() == -1 and batch.drawing.max() == 1
    assert 0 <= batch.drawing_dt.min() and batch.drawing_dt.max() == pytest.approx(1.0)
    assert set(batch.background_mask.unique().tolist()) <= {0.0, 1.0}
    assert len(dm.datasets["val"]) == 2


def test_landmarks_are_scaled_to_image_size(paired_root):
    dataset = PairedDataset(
        find_records(paired_root, "train", paired_root / "landmark/ALL", paired_root / "mask/ALL"), image_size=128
    )
    sample = dataset[0]
    expected = np.round(np.array([[50, 62], [78, 62], [64, 78], [52, 93], [76, 93]]) * 0.5) * 2
    assert torch.allclose(sample.landmarks, torch.tensor(expected, dtype=torch.float32))
    assert sample.photo.shape == (3, 128, 128)


def test_flip_mirrors_images_and_swaps_left_right_landmarks(paired_root):
    records = find_records(paired_root, "train", paired_root / "landmark/ALL", paired_root / "mask/ALL")
    plain, flipped = PairedDataset(records, 64, 0.0)[0], PairedDataset(records, 64, 1.0)[0]
    assert torch.equal(flipped.photo, plain.photo.flip(-1))
    assert torch.equal(flipped.drawing, plain.drawing.flip(-1))
    assert torch.equal(flipped.background_mask, plain.background_mask.flip(-1))
    mirrored = plain.landmarks.clone()
    mirrored[:, 0] = 63 - mirrored[:, 0]
    assert torch.allclose(flipped.landmarks, mirrored[[1, 0, 2, 4, 3]])
    assert flipped.landmarks[0, 0] < flipped.landmarks[1, 0]  # image-left eye stays first
    # the distance maps are computed after the flip
    assert torch.allclose(flipped.drawing_dt, plain.drawing_dt.flip(-1))


def test_rgb_masks_are_converted_and_hidden_files_ignored(tmp_path):
    root = tmp_path / "ds"
    for split in ("train", "test"):
        write_paired_sample(root, split, f"{split}_rgb", rgb_mask=True)
    (root / "data/train/.ipynb_checkpoints").mkdir()
    Image.new("RGB", (8, 8)).save(root / "data/train/.ipynb_checkpoints/x-checkpoint.png")
    Image.new("RGB", (8, 8)).save(root / "data/train/.hidden.png")
    dm = _datamodule(root, batch_size=1)
    dm.setup("fit")
    assert [r.name for r in dm.datasets["train"].records] == ["train_rgb"]
    assert dm.datasets["train"][0].background_mask.shape == (1, 64, 64)


def test_separate_a_and_b_folders(tmp_path):
    root = tmp_path / "ab"
    for split in ("train", "test"):
        write_paired_sample(root, split, "x")
        pair = np.asarray(Image.open(root / "data" / split / "x.png"))
        for side, half in (("A", pair[:, :64]), ("B", pair[:, 64:, 0])):
            (root / side / split).mkdir(parents=True)
            Image.fromarray(half).save(root / side / split / "x.png")
        (root / "data" / split / "x.png").unlink()
    dm = _datamodule(root, batch_size=1)
    dm.setup("fit")
    sample = dm.datasets["train"][0]
    assert sample.drawing.shape == (1, 64, 64) and sample.drawing.min() == -1


def test_every_problem_is_listed_in_one_error(paired_root):
    (paired_root / "landmark/ALL/train_0.txt").unlink()
    (paired_root / "mask/ALL/train_1.png").unlink()
    (paired_root / "landmark/ALL/train_2.txt").write_text("1 2\n3 4\n")
    write_paired_sample(paired_root, "train", "outside")
    (paired_root / "landmark/ALL/outside.txt").write_text("1 2\n3 4\n5 6\n7 8\n900 9\n")
    write_paired_sample(paired_root, "train", "broken")
    (paired_root / "data/train/broken.png").write_bytes(b"not a png")
    dm = _datamodule(paired_root)
    with pytest.raises(DatasetError) as info:
        dm.setup("fit")
    message = str(info.value)
    assert "5 problem(s)" in message
    for needle in (
        "missing landmark file",
        "train_0.txt",
        "missing mask file",
        "train_1.png",
        "expected 5 lines",
        "outside the 64×64 image",
        "broken.png: unreadable image",
    ):
        assert needle in message


def test_empty_dataset_error_names_the_expected_layout(tmp_path):
    with pytest.raises(DatasetError, match="no 'train' images found"):
        _datamodule(tmp_path).setup("fit")


def test_predict_from_a_folder_of_photos(paired_root, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    pair = np.asarray(Image.open(paired_root / "data/test/test_0.png"))
    Image.fromarray(pair[:, :64]).save(photos / "test_0.png")
    dm = _datamodule(paired_root, predict_dir=str(photos), batch_size=1)
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert batch.name == ["test_0"] and batch.drawing is None and batch.photo.shape == (1, 3, 64, 64)
