"""The preprocess outputs are read directly by the paired and unpaired datamodules."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apd_lightning.cli import main as cli_main
from apd_lightning.data import APDrawingDataModule, UnpairedDataModule

pytest.importorskip("mediapipe")


def _drawing_folder(tmp_path: Path, astronaut: np.ndarray) -> Path:
    folder = tmp_path / "drawings"
    folder.mkdir()
    gray = np.asarray(Image.fromarray(astronaut).convert("L"))
    edges = np.where(np.abs(np.diff(gray.astype(int), axis=1, prepend=0)) > 25, 0, 255).astype(np.uint8)
    Image.fromarray(edges).save(folder / "astronaut.png")
    return folder


def test_apdrawing_output_trains_the_paired_datamodule(tmp_path, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "astronaut.png")
    drawings = _drawing_folder(tmp_path, astronaut)
    out = tmp_path / "apd"
    for split in ("train", "test"):
        assert (
            cli_main(
                [
                    "preprocess",
                    str(photos),
                    str(out),
                    "--drawings",
                    str(drawings),
                    "--split",
                    split,
                    "--size",
                    "256",
                    "--no-progress",
                ]
            )
            == 0
        )
    dm = APDrawingDataModule(str(out), image_size=128, batch_size=1, num_workers=0)
    dm.setup("fit")
    sample = dm.datasets["train"][0]
    assert sample.photo.shape == (3, 128, 128) and sample.drawing.shape == (1, 128, 128)
    assert sample.landmarks[0, 0] < sample.landmarks[1, 0] < 128
    assert sample.background_mask[0, 64, 64] == 1  # the face centre is person


def test_unpaired_output_feeds_the_unpaired_datamodule(tmp_path, astronaut, demo_root):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "astronaut.png")
    root = tmp_path / "upd"
    assert (
        cli_main(
            ["preprocess", str(photos), str(root / "train"), "--layout", "unpaired", "--size", "128", "--no-progress"]
        )
        == 0
    )
    # drawings come from elsewhere (MediaPipe finds no landmarks on drawings): take the demo's
    for folder in ("B", "B_eyes", "B_nose", "B_lips", "B_feat"):
        shutil.copytree(demo_root / "unpaired" / "train" / folder, root / "train" / folder)
    shutil.copytree(root / "train" / "A", root / "test" / "A")
    dm = UnpairedDataModule(str(root), image_size=64, batch_size=1, num_workers=0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch.photo.shape == (1, 3, 64, 64) and batch.photo_masks.shape == (1, 3, 64, 64)
    assert batch.photo_masks.max() > 0.5  # the face-mesh masks cover something
