"""Fixtures of the QMUPD tests: tiny unpaired datasets in the on-disk layout, tiny modules, one CPU thread."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.data.unpaired import REGIONS
from apd_lightning.models.qmupd import QMUPD
from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator, StyleGenerator


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread is much faster than several on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def region_mask(size: int, region: int) -> np.ndarray:
    """A soft square mask (bicubic-like ramp at the edges) for region 0, 1 or 2."""
    mask = np.zeros((size, size), np.float64)
    top = size // 4 + region * size // 6
    mask[top : top + size // 6, size // 4 : 3 * size // 4] = 255
    mask[top - 1, size // 4 : 3 * size // 4] = 128
    return mask.astype(np.uint8)


def write_unpaired_root(
    root: Path,
    photos: int = 3,
    drawings: int = 4,
    size: int = 48,
    styles: str = "npy",
    test_photos: int = 2,
    seed: int = 0,
) -> Path:
    """Write ``root/train/{A,B,A_*,B_*}``, styles (``npy``, ``csv`` or ``both``) and ``root/test/A``."""
    rng = np.random.default_rng(seed)
    train = root / "train"
    for i in range(photos):
        _save(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), train / "A" / f"photo_{i}.png")
        for k, region in enumerate(REGIONS):
            _save(region_mask(size, k), train / f"A_{region}" / f"photo_{i}.png")
    rows = []
    for i in range(drawings):
        drawing = np.full((size, size), 255, np.uint8)
        drawing[size // 2, :] = 0
        _save(drawing, train / "B" / f"drawing_{i}.png")
        for k, region in enumerate(REGIONS):
            _save(region_mask(size, k), train / f"B_{region}" / f"drawing_{i}.png")
        label = i % 3
        if styles in ("npy", "both"):
            (train / "B_feat").mkdir(parents=True, exist_ok=True)
            vector = np.full(3, 0.1, np.float32)
            vector[label] = 0.8
            np.save(train / "B_feat" / f"drawing_{i}.npy", vector)
        rows.append((f"drawing_{i}.png", (label + 1) % 3 if styles == "both" else label))
    if styles in ("csv", "both"):
        with (train / "styles.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows([("name", "style"), *rows])
    for i in range(test_photos):
        _save(rng.integers(0, 255, (size + 8 * i, size, 3), dtype=np.uint8), root / "test" / "A" / f"test_{i}.png")
    return root


@pytest.fixture
def unpaired_root(tmp_path: Path) -> Path:
    """3 photos, 4 drawings (soft .npy styles), 2 test photos, 48 px, plus hidden files that must be ignored."""
    root = write_unpaired_root(tmp_path / "unpaired")
    hidden = root / "train" / "A" / ".ipynb_checkpoints"
    _save(np.zeros((8, 8, 3), np.uint8), hidden / "photo_0-checkpoint.png")
    _save(np.zeros((8, 8, 3), np.uint8), root / "train" / "B" / ".hidden.png")
    return root


def tiny_module(size: int = 64, **kwargs) -> QMUPD:
    """A QMUPD with tiny widths and random auxiliaries."""
    kwargs.setdefault("auxiliaries", "random_init")
    kwargs.setdefault("random_auxiliary_width", 4)
    return QMUPD(
        StyleGenerator(base_channels=4, num_blocks=1),
        ResnetGenerator(base_channels=4, num_blocks=1),
        QMUPDDiscriminators(size, base_channels=4),
        **kwargs,
    )
