"""Unpaired photos and drawings with facial-region masks and style vectors (UPD / QMUPD).

On-disk layout::

    ROOT/train/A/*.png                      photos (domain A)
    ROOT/train/B/*.png                      drawings (domain B)
    ROOT/train/{A,B}_{nose,eyes,lips}/*     region masks, same file name (or stem) as their image
    ROOT/train/B_feat/<stem>.npy            3-float style vector of each drawing (soft classifier output), or
    ROOT/train/styles.csv                   ``name,style`` rows (integer style 0..2) for drawings without .npy
    ROOT/test/A/*.png                       photos to draw (``predict``) and to monitor (``validate``)
    ROOT/test/B_true/<stem>_<k>.png         optional: the true drawing of test photo <stem> in style k = 1..3
                                            (the demo data has them); validation batches then carry them

Hidden files and folders (``.ipynb_checkpoints``) are ignored; every problem is collected at ``setup`` and
raised once as a :class:`DatasetError`.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..ops.face_parts import REGIONS
from .base import SplitDataModule
from .batches import PhotoBatch, UnpairedBatch
from .io import DatasetError, image_size, list_images, read_image
from .transforms import A  # albumentations, imported with its update check switched off
from .truth import find_true_drawings, read_drawing

NUM_STYLES = 3


@dataclass(frozen=True)
class ImageRecord:
    """One image file, its region masks (in :data:`REGIONS` order) and, for drawings, its style vector."""

    name: str
    path: Path
    masks: tuple[Path, ...] = ()
    style: tuple[float, ...] | None = None


# ---- discovery and checks ---------------------------------------------------------------------------------
def _read_styles_csv(path: Path, problems: list[str]) -> dict[str, int]:
    styles: dict[str, int] = {}
    if not path.is_file():
        return styles
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                label = int(row["style"])
                if not 0 <= label < NUM_STYLES:
                    raise ValueError(label)
                styles[Path(row["name"]).stem] = label
            except (KeyError, TypeError, ValueError):
                problems.append(f"{path}:{line}: expected 'name,style' with style in 0..{NUM_STYLES - 1}, got {row}")
    return styles


def _read_style(npy: Path, csv_styles: dict[str, int], name: str, problems: list[str]) -> tuple[float, ...] | None:
    if npy.is_file():
        try:
            vector = np.load(npy, allow_pickle=False).astype(np.float64).reshape(-1)
        except (OSError, ValueError) as error:
            problems.append(f"{npy}: unreadable style vector ({error})")
            return None
        if vector.shape != (NUM_STYLES,) or not np.isfinite(vector).all():
            problems.append(f"{npy}: expected {NUM_STYLES} finite floats, got shape {vector.shape}")
            return None
        return tuple(vector.tolist())
    if name in csv_styles:
        return tuple(float(k == csv_styles[name]) for k in range(NUM_STYLES))
    problems.append(f"{name}: no style vector ({npy} missing and no row in styles.csv)")
    return None


def _find_domain(
    split_dir: Path, domain: str, problems: list[str], csv_styles: dict[str, int] | None = None
) -> list[ImageRecord]:
    images = list_images(split_dir / domain)
    if not images:
        problems.append(f"no images in {split_dir / domain}")
    masks = {region: {p.stem: p for p in list_images(split_dir / f"{domain}_{region}")} for region in REGIONS}
    records = []
    for path in images:
        try:
            image_size(path)
        except Exception as error:  # noqa: BLE001 - every unreadable file is reported, not raised one by one
            problems.append(f"{path}: unreadable image ({error})")
        found = [masks[region].get(path.stem) for region in REGIONS]
        for region, mask in zip(REGIONS, found, strict=True):
            if mask is None:
                folder = split_dir / f"{domain}_{region}"
                problems.append(f"{path.name}: missing {region} mask {folder / path.name}")
        style = None
        if csv_styles is not None:
            npy = split_dir / f"{domain}_feat" / f"{path.stem}.npy"
            style = _read_style(npy, csv_styles, path.stem, problems)
        records.append(ImageRecord(path.stem, path, tuple(m for m in found if m is not None), style))
    return records


def find_unpaired(root: Path | str, split: str = "train") -> tuple[list[ImageRecord], list[ImageRecord]]:
    """Photos and drawings of ``ROOT/<split>`` with masks and styles.

    Raises:
        DatasetError: listing every problem (missing folders, masks or styles, unreadable files, bad rows).
    """
    split_dir = Path(root) / split
    problems: list[str] = []
    csv_styles = _read_styles_csv(split_dir / "styles.csv", problems)
    photos = _find_domain(split_dir, "A", problems)
    drawings = _find_domain(split_dir, "B", problems, csv_styles)
    if problems:
        raise DatasetError(root, problems)
    return photos, drawings


def find_photos(folder: Path | str) -> list[ImageRecord]:
    """Photos directly in ``folder`` (no masks needed); one :class:`DatasetError` lists all problems."""
    photos = [ImageRecord(p.stem, p) for p in list_images(folder)]
    problems = [] if photos else [f"no images in {folder}"]
    for record in photos:
        try:
            image_size(record.path)
        except Exception as error:  # noqa: BLE001
            problems.append(f"{record.path}: unreadable image ({error})")
    if problems:
        raise DatasetError(folder, problems)
    return photos


# ---- datasets ---------------------------------------------------------------------------------------------
def unpaired_transform(image_size: int, load_size: int, flip_prob: float = 0.5) -> A.Compose:
    """The reference augmentation of one domain: bicubic resize to ``load_size``, random ``image_size``
    crop and horizontal flip; the ``masks`` target (an ``(H, W, 3)`` image) shares the parameters and stays
    soft."""
    return A.Compose(
        [
            A.Resize(load_size, load_size, interpolation=cv2.INTER_CUBIC),
            A.RandomCrop(image_size, image_size),
            A.HorizontalFlip(p=flip_prob),
        ],
        additional_targets={"masks": "image"},
        is_check_shapes=False,  # masks may have another resolution: every target is resized first
        strict=False,
    )


def _to_tensor(array: np.ndarray, scale_to_signed: bool = True) -> Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(array)).float()
    tensor = tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    return tensor / 127.5 - 1 if scale_to_signed else tensor / 255


def _read_masks(record: ImageRecord) -> np.ndarray:
    masks = [read_image(path, "L") for path in record.masks]
    shape = masks[0].shape
    return np.stack(
        [m if m.shape == shape else cv2.resize(m, shape[::-1], interpolation=cv2.INTER_CUBIC) for m in masks], axis=-1
    )


class UnpairedDataset(Dataset):
    """Training samples: photo ``index % |A|`` with a drawing drawn uniformly at random; length max(|A|, |B|).

    Photo and drawing get independent crop/flip parameters, each shared with its own masks. The random state
    (drawing choice and augmentation) is seeded from ``torch.initial_seed()`` in each process, so data-loader
    workers differ from each other and follow ``seed_everything``.
    """

    def __init__(
        self,
        photos: list[ImageRecord],
        drawings: list[ImageRecord],
        image_size: int = 512,
        load_size: int | None = None,
        flip_prob: float = 0.5,
    ) -> None:
        self.photos, self.drawings = photos, drawings
        load_size = load_size or default_load_size(image_size)
        self.photo_transform = unpaired_transform(image_size, load_size, flip_prob)
        self.drawing_transform = unpaired_transform(image_size, load_size, flip_prob)
        self._seeded_in: int | None = None
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return max(len(self.photos), len(self.drawings))

    def _seed(self) -> None:
        if self._seeded_in != os.getpid():  # once per (worker) process
            seed = torch.initial_seed() % 2**32
            self.rng = np.random.default_rng(seed)
            self.photo_transform.set_random_seed(seed + 1)
            self.drawing_transform.set_random_seed(seed + 2)
            self._seeded_in = os.getpid()

    def __getitem__(self, index: int) -> UnpairedBatch:
        self._seed()
        photo_record = self.photos[index % len(self.photos)]
        drawing_record = self.drawings[int(self.rng.integers(len(self.drawings)))]
        photo = self.photo_transform(image=read_image(photo_record.path, "RGB"), masks=_read_masks(photo_record))
        drawing = self.drawing_transform(image=read_image(drawing_record.path, "L"), masks=_read_masks(drawing_record))
        style = torch.tensor(drawing_record.style, dtype=torch.float32)
        return UnpairedBatch(
            photo=_to_tensor(photo["image"]),
            drawing=_to_tensor(drawing["image"]),
            style=style,
            style_label=style.argmax(),
            name=photo_record.name,
            drawing_name=drawing_record.name,
            photo_masks=_to_tensor(photo["masks"], False),
            drawing_masks=_to_tensor(drawing["masks"], False),
        )


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)


class MonitorDataset(Dataset):
    """Validation samples: photos resized to ``image_size``, each with a fixed drawing (``index % |B|``) and,
    when given, its true drawings in the three styles; no masks (validation only needs the generators)."""

    def __init__(
        self,
        photos: list[ImageRecord],
        drawings: list[ImageRecord],
        image_size: int = 512,
        true_drawings: dict[str, list[Path]] | None = None,
    ) -> None:
        self.photos, self.drawings, self.image_size = photos, drawings, image_size
        self.true_drawings = true_drawings

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> UnpairedBatch:
        photo, drawing = self.photos[index], self.drawings[index % len(self.drawings)]
        style = torch.tensor(drawing.style, dtype=torch.float32)
        truth = None
        if self.true_drawings is not None:
            paths = self.true_drawings[photo.name]
            truth = torch.cat([read_drawing(p, self.image_size) for p in paths])
        return UnpairedBatch(
            photo=_to_tensor(_resize(read_image(photo.path, "RGB"), self.image_size)),
            drawing=_to_tensor(_resize(read_image(drawing.path, "L"), self.image_size)),
            style=style,
            style_label=style.argmax(),
            name=photo.name,
            drawing_name=drawing.name,
            true_drawing=truth,
        )


class PhotoDataset(Dataset):
    """Photos to draw, bicubically resized to ``image_size``, with their original sizes."""

    def __init__(self, records: list[ImageRecord], image_size: int = 512) -> None:
        self.records, self.image_size = records, image_size

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> PhotoBatch:
        record = self.records[index]
        photo = read_image(record.path, "RGB")
        return PhotoBatch(
            photo=_to_tensor(_resize(photo, self.image_size)),
            name=record.name,
            original_size=torch.tensor(photo.shape[:2]),
        )


def default_load_size(image_size: int) -> int:
    """The reference's load size scaled to ``image_size``: 572 at 512."""
    return int(image_size * 572 / 512 + 0.5)


# ---- datamodule -------------------------------------------------------------------------------------------
class UnpairedDataModule(SplitDataModule):
    """Unpaired photo / drawing data for UPD and QMUPD (layout in the module docstring).

    Args:
        root: dataset folder.
        image_size: square crop fed to the model (512 in the papers).
        load_size: side images are resized to before cropping; ``None``: ``image_size · 572/512``.
        batch_size: samples per batch (1 in the papers).
        num_workers: data-loading worker processes (-1: one per CPU core).
        flip_prob: horizontal-flip probability of each domain.
        val_size: photos used by ``validate`` (from ``val_dir``), each with a fixed training drawing.
        val_dir: photos for validation; ``None``: ``ROOT/test/A``, or the training photos if that is empty.
        truth_dir: true drawings ``<photo stem>_<k>.png`` of the validation photos (scoring only); ``None``:
            ``ROOT/test/B_true`` when the validation photos are ``ROOT/test/A`` and that folder exists.
        predict_dir: photos to draw; ``None``: ``ROOT/test/A``.
        predict_output_dir: where ``predict`` writes ``<stem>_<style>.png``.
        overwrite: allow ``predict`` to replace existing files in ``predict_output_dir``.
    """

    def __init__(
        self,
        root: str = "datasets/portrait_drawing",
        image_size: int = 512,
        load_size: int | None = None,
        batch_size: int = 1,
        num_workers: int = 4,
        flip_prob: float = 0.5,
        val_size: int = 8,
        val_dir: str | None = None,
        truth_dir: str | None = None,
        predict_dir: str | None = None,
        predict_output_dir: str = "outputs/qmupd",
        overwrite: bool = False,
    ) -> None:
        super().__init__(batch_size, num_workers)
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        self.save_hyperparameters()
        self.root = Path(root)
        self.image_size = image_size
        self.predict_output_dir = Path(predict_output_dir)
        self.overwrite = overwrite

    def _monitor_dataset(self, photos: list[ImageRecord], drawings: list[ImageRecord]) -> MonitorDataset:
        hp = self.hparams
        folder = Path(hp.val_dir) if hp.val_dir else self.root / "test" / "A"
        truth_dir = hp.truth_dir
        if hp.val_dir or list_images(folder):
            photos = find_photos(folder)
            truth_dir = truth_dir or (None if hp.val_dir else self.root / "test" / "B_true")
        photos = photos[: hp.val_size]
        truth = None if truth_dir is None else find_true_drawings(truth_dir, [p.name for p in photos])
        if hp.truth_dir and truth is None:
            raise DatasetError(hp.truth_dir, ["truth_dir is not a folder"])
        return MonitorDataset(photos, drawings, self.image_size, truth)

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if stage in (None, "fit", "validate", "test"):
            photos, drawings = find_unpaired(self.root, "train")
            if stage in (None, "fit"):
                self.datasets["train"] = UnpairedDataset(photos, drawings, self.image_size, hp.load_size, hp.flip_prob)
            self.datasets["val"] = self._monitor_dataset(photos, drawings)
        if stage == "predict":
            records = find_photos(Path(hp.predict_dir) if hp.predict_dir else self.root / "test" / "A")
            self.datasets["predict"] = PhotoDataset(records, self.image_size)

    def collate_fn(self, key: str):
        return PhotoBatch.collate if key == "predict" else UnpairedBatch.collate
