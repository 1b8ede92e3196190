"""Drawings with human quality ratings (to train the QMUPD quality regressor), and a synthetic rated set.

On-disk layout::

    ROOT/<name>                 drawings (any image format, any size; read as grayscale)
    ROOT/ratings.csv            header ``name,score`` (extra columns ignored); ``name`` is relative to ROOT

Rows naming hidden files (dot-files, files in dot-folders such as ``.ipynb_checkpoints``) are skipped; images
without a row are not used. Every other problem (missing file, bad score, duplicate row) is reported at once.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .base import SplitDataModule
from .batches import RatedBatch
from .io import DatasetError, image_size, is_hidden, list_images, read_image


def read_ratings(root: Path | str, ratings_csv: str = "ratings.csv") -> list[tuple[Path, float]]:
    """``(image path, score)`` for every usable row of the ratings file, in file order.

    Raises:
        DatasetError: listing every problem (missing CSV or columns, missing/unreadable images, bad or
            duplicate rows, no usable row).
    """
    root = Path(root)
    csv_path = Path(ratings_csv) if Path(ratings_csv).is_absolute() else root / ratings_csv
    if not csv_path.is_file():
        raise DatasetError(root, [f"ratings file {csv_path} not found (expected a CSV with header 'name,score')"])
    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
        header = rows[0].keys() if rows else []
    if not {"name", "score"} <= set(header):
        raise DatasetError(root, [f"{csv_path}: header must contain 'name' and 'score', got {list(header)}"])
    records, problems, seen = [], [], set()
    for line, row in enumerate(rows, start=2):
        name = (row["name"] or "").strip()
        if is_hidden(Path(name)):
            continue
        try:
            score = float(row["score"])
        except (TypeError, ValueError):
            score = math.nan
        if not math.isfinite(score):
            problems.append(f"{csv_path.name} line {line}: score {row['score']!r} of {name!r} is not a number")
        if name in seen:
            problems.append(f"{csv_path.name} line {line}: {name!r} rated twice")
        seen.add(name)
        path = root / name
        if not path.is_file():
            problems.append(f"{csv_path.name} line {line}: image {path} not found")
            continue
        try:
            image_size(path)
        except Exception as error:  # noqa: BLE001 - every unreadable file is listed, not raised one by one
            problems.append(f"{path}: unreadable image ({error})")
        records.append((path, score))
    if not records and not problems:
        problems.append(f"{csv_path} has no rated images")
    if problems:
        raise DatasetError(root, problems)
    return records


class RatedDrawingsDataset(Dataset):
    """Rated drawings resized to ``image_size``² (area/cubic), optionally flipped, in [-1, 1].

    Args:
        records: ``(path, score)`` pairs, see :func:`read_ratings`.
        root: dataset root (names in batches are relative to it).
        image_size: square side of the drawings.
        flip_prob: horizontal-flip probability (training).
    """

    def __init__(
        self, records: list[tuple[Path, float]], root: Path, image_size: int = 299, flip_prob: float = 0.0
    ) -> None:
        self.records = records
        self.root = root
        self.image_size = image_size
        self.flip_prob = flip_prob

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> RatedBatch:
        path, score = self.records[index]
        drawing = read_image(path, "L")
        shrink = drawing.shape[0] > self.image_size
        drawing = cv2.resize(
            drawing, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
        )
        if self.flip_prob > 0 and torch.rand(()) < self.flip_prob:
            drawing = drawing[:, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(drawing)).float().unsqueeze(0) / 127.5 - 1
        name = path.relative_to(self.root).as_posix()
        return RatedBatch(tensor, torch.tensor(score, dtype=torch.float32), name)


class RatedDrawingsDataModule(SplitDataModule):
    """Rated drawings split at random (fixed seed) into training and validation sets.

    Args:
        root: folder of drawings with the ratings CSV (see the module docstring).
        ratings_csv: CSV file name, relative to ``root`` (or absolute).
        image_size: square side fed to the regressor (the Inception backbone resizes to 299 itself).
        val_fraction: share of the rated drawings held out for validation (at least 2 when > 0).
        batch_size: drawings per batch.
        num_workers: data-loading worker processes (-1: one per CPU core).
        flip_prob: horizontal-flip probability for training.
        split_seed: seed of the train/validation split.
    """

    def __init__(
        self,
        root: str = "datasets/rated_drawings",
        ratings_csv: str = "ratings.csv",
        image_size: int = 299,
        val_fraction: float = 0.1,
        batch_size: int = 16,
        num_workers: int = 4,
        flip_prob: float = 0.5,
        split_seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.save_hyperparameters()
        self.root = Path(root)

    def split(self) -> tuple[list[tuple[Path, float]], list[tuple[Path, float]]]:
        """(train, validation) records."""
        hp = self.hparams
        records = read_ratings(self.root, hp.ratings_csv)
        order = np.random.default_rng(hp.split_seed).permutation(len(records))
        n_val = 0 if hp.val_fraction == 0 else max(2, round(hp.val_fraction * len(records)))
        if len(records) - n_val < 1:
            raise DatasetError(
                self.root,
                [
                    f"{len(records)} rated image(s) are too few for val_fraction "
                    f"{hp.val_fraction} (need 1 for training and 2 for validation)"
                ],
            )
        return [records[i] for i in order[n_val:]], [records[i] for i in order[:n_val]]

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        train, val = self.split()
        self.datasets["train"] = RatedDrawingsDataset(train, self.root, hp.image_size, hp.flip_prob)
        self.datasets["val"] = RatedDrawingsDataset(val, self.root, hp.image_size, 0.0)

    def collate_fn(self, key: str):
        return RatedBatch.collate


# ---- synthetic ratings ------------------------------------------------------------------------------------
def degrade_drawing(drawing: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Degrade a drawing by ``amount`` in [0, 1]: all four damages grow with it.

    Line drop (≈60 %·amount of the lines removed in 8-px blocks), erase (a white rectangle over
    25 %·amount of the image), Gaussian blur (σ = 2·amount px at 128 px) and Gaussian noise (σ = 0.3·amount).

    Args:
        drawing: ``(H, W)`` uint8, white background.
        amount: degradation strength; 0 returns the drawing unchanged.

    Returns:
        ``(H, W)`` uint8.
    """
    if drawing.ndim != 2 or drawing.dtype != np.uint8:
        raise ValueError(f"drawing must be a (H, W) uint8 array, got {drawing.shape} {drawing.dtype}")
    height, width = drawing.shape
    ink = 1.0 - drawing.astype(np.float32) / 255.0
    blocks = rng.random((math.ceil(height / 8), math.ceil(width / 8)))
    ink *= np.kron(blocks >= 0.6 * amount, np.ones((8, 8)))[:height, :width]
    area = 0.25 * amount * height * width
    if area >= 1:
        side_h = min(height, max(1, round(math.sqrt(area * height / width))))
        side_w = min(width, max(1, round(area / side_h)))
        top, left = rng.integers(0, height - side_h + 1), rng.integers(0, width - side_w + 1)
        ink[top : top + side_h, left : left + side_w] = 0
    sigma = 2.0 * amount * max(height, width) / 128
    if sigma > 0.05:
        ink = cv2.GaussianBlur(ink, (0, 0), sigma)
    ink += rng.normal(0.0, 0.3 * amount, ink.shape).astype(np.float32)
    return np.clip((1.0 - ink) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def make_synthetic_ratings(
    drawings_dir: Path | str, out_dir: Path | str, seed: int = 0, copies: int = 3, combined: bool = False
) -> Path:
    """Write a rated set: ``copies`` degraded versions of each drawing, score = 1 − degradation amount.

    Args:
        drawings_dir: folder of drawings (hidden files ignored).
        out_dir: output folder; ``<stem>_<k>.png`` files and ``ratings.csv`` are written.
        seed: random seed (amounts uniform in [0, 1], damage positions).
        copies: degraded versions per drawing.
        combined: the files are photo | drawing pairs (APDrawing layout); use the right half.

    Returns:
        The path of the ratings CSV.
    """
    sources = list_images(drawings_dir)
    if not sources:
        raise DatasetError(drawings_dir, [f"no images in {drawings_dir}"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for source in sources:
        drawing = read_image(source, "L")
        if combined:
            drawing = np.ascontiguousarray(drawing[:, drawing.shape[1] // 2 :])
        for k in range(copies):
            amount = float(rng.random())
            name = f"{source.stem}_{k}.png"
            Image.fromarray(degrade_drawing(drawing, amount, rng), "L").save(out_dir / name)
            rows.append((name, f"{1.0 - amount:.4f}"))
    csv_path = out_dir / "ratings.csv"
    with csv_path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("name", "score"), *rows])
    return csv_path


def make_rated_set_main(argv: Sequence[str]) -> int:
    """``make-rated-set SRC_DIR OUT_DIR [--copies N] [--seed S] [--combined]``."""
    from ..cli import ExamplesHelpFormatter

    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning make-rated-set",
        description="Degrade drawings by known amounts into a rated set "
        "(score = 1 - degradation) for the quality regressor.",
        epilog="example:\n"
        "  python -m apd_lightning make-rated-set demo_output/data/unpaired/train/B demo_output/rated --copies 4",
        formatter_class=ExamplesHelpFormatter,
    )
    parser.add_argument("src_dir", help="folder of drawings")
    parser.add_argument("out_dir", help="output folder (degraded PNGs + ratings.csv)")
    parser.add_argument("--copies", type=int, default=3, help="degraded versions per drawing (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--combined", action="store_true", help="SRC_DIR holds photo|drawing pairs")
    args = parser.parse_args(argv)
    csv_path = make_synthetic_ratings(args.src_dir, args.out_dir, args.seed, args.copies, args.combined)
    with csv_path.open() as handle:
        count = sum(1 for _ in handle) - 1
    print(f"wrote {count} rated drawings and {csv_path}")
    return 0
