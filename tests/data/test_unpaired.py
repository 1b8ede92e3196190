"""The unpaired datamodule on tmp_path datasets in the on-disk layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.data import DatasetError, PhotoBatch, UnpairedBatch, UnpairedDataModule, find_unpaired
from apd_lightning.data.unpaired import UnpairedDataset, default_load_size
from tests.builders import write_unpaired_root

pytestmark = pytest.mark.usefixtures("one_thread")


def _module(root, **kwargs) -> UnpairedDataModule:
    kwargs = {"image_size": 32, "batch_size": 2, "num_workers": 0, **kwargs}
    return UnpairedDataModule(str(root), **kwargs)


def test_train_batches_are_typed_with_soft_masks_and_styles(unpaired_root):
    dm = _module(unpaired_root)
    dm.setup("fit")
    assert len(dm.datasets["train"]) == 4  # max(|A| = 3, |B| = 4); hidden files ignored
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, UnpairedBatch) and len(batch) == 2
    assert batch.photo.shape == (2, 3, 32, 32) and batch.drawing.shape == (2, 1, 32, 32)
    assert batch.photo_masks.shape == batch.drawing_masks.shape == (2, 3, 32, 32)
    assert batch.photo.min() >= -1 and batch.photo.max() <= 1 and batch.drawing.min() >= -1
    masks = batch.photo_masks
    assert masks.min() >= 0 and masks.max() <= 1 and ((masks > 0.05) & (masks < 0.95)).any()  # soft edges
    assert batch.style.shape == (2, 3) and torch.allclose(batch.style.max(1).values, torch.tensor(0.8))
    assert torch.equal(batch.style_label, batch.style.argmax(1))
    assert all(n.startswith("photo_") for n in batch.name)
    assert all(n.startswith("drawing_") for n in batch.drawing_name)


def test_photo_and_its_masks_share_crop_and_flip(tmp_path):
    root = write_unpaired_root(tmp_path / "r", photos=1, drawings=1, size=64)
    photo = np.zeros((64, 64, 3), np.uint8)
    photo[:, :16] = 255  # a white stripe on the left ...
    Image.fromarray(photo).save(root / "train" / "A" / "photo_0.png")
    for region in ("nose", "eyes", "lips"):  # ... exactly where every mask is
        Image.fromarray(photo[..., 0]).save(root / "train" / f"A_{region}" / "photo_0.png")
    photos, drawings = find_unpaired(root)
    dataset = UnpairedDataset(photos, drawings, image_size=48)
    stripes = set()
    for seed in range(6):
        torch.manual_seed(seed)
        dataset._seeded_in = None
        sample = dataset[0]
        bright = (sample.photo[0] + 1) / 2
        assert torch.allclose(sample.photo_masks[0], bright, atol=0.02)
        assert torch.allclose(sample.photo_masks[2], bright, atol=0.02)
        stripes.add(tuple((bright.mean(0) > 0.5).nonzero().flatten().tolist()))
    assert len(stripes) > 1  # the crops / flips did vary


def test_load_size_follows_the_reference_ratio():
    assert default_load_size(512) == 572 and default_load_size(64) == 72


def test_styles_csv_replaces_the_npy_files(tmp_path):
    root = write_unpaired_root(tmp_path / "r", drawings=4, styles="csv")
    _, drawings = find_unpaired(root)
    assert [d.style for d in drawings] == [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 0.0, 0.0)]


def test_npy_vectors_take_precedence_over_styles_csv(tmp_path):
    root = write_unpaired_root(tmp_path / "r", drawings=2, styles="both")
    _, drawings = find_unpaired(root)
    assert drawings[1].style == pytest.approx((0.1, 0.8, 0.1))


def test_every_problem_is_listed_in_one_error(tmp_path):
    root = write_unpaired_root(tmp_path / "r", photos=2, drawings=3)
    (root / "train" / "A_eyes" / "photo_1.png").unlink()
    (root / "train" / "B_feat" / "drawing_0.npy").unlink()
    np.save(root / "train" / "B_feat" / "drawing_1.npy", np.zeros(5, np.float32))
    (root / "train" / "B" / "drawing_2.png").write_bytes(b"not an image")
    (root / "train" / "styles.csv").write_text("name,style\ndrawing_0.png,7\n")
    dm = _module(root)
    with pytest.raises(DatasetError) as info:
        dm.setup("fit")
    message = str(info.value)
    assert len(info.value.problems) == 5, message
    for expected in (
        "photo_1.png: missing eyes mask",
        "drawing_0: no style vector",
        "drawing_1.npy: expected 3",
        "drawing_2.png: unreadable image",
        "styles.csv:2",
    ):
        assert expected in message


def test_empty_domains_are_reported_together(tmp_path):
    (tmp_path / "train" / "A").mkdir(parents=True)
    with pytest.raises(DatasetError) as info:
        find_unpaired(tmp_path)
    assert "no images in" in str(info.value) and len(info.value.problems) == 2


def test_validation_uses_test_photos_with_fixed_drawings(unpaired_root):
    dm = _module(unpaired_root, val_size=1)
    dm.setup("validate")
    assert "train" not in dm.datasets and len(dm.datasets["val"]) == 1
    batch = next(iter(dm.val_dataloader()))
    assert batch.name == ["test_0"] and batch.photo_masks is None and batch.drawing.shape == (1, 1, 32, 32)
    again = next(iter(dm.val_dataloader()))
    assert torch.equal(batch.drawing, again.drawing)


def test_predict_batches_keep_original_sizes(unpaired_root):
    dm = _module(unpaired_root)
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert isinstance(batch, PhotoBatch) and batch.photo.shape == (2, 3, 32, 32)
    assert batch.name == ["test_0", "test_1"]
    assert batch.original_size.tolist() == [[48, 48], [56, 48]]  # (height, width)
    with pytest.raises(DatasetError, match="no images"):
        _module(unpaired_root, predict_dir=str(unpaired_root / "missing")).setup("predict")
