"""The APDrawing dataset (paired photos and drawings with landmarks and person masks).

On-disk layout (the released APDrawingDB)::

    ROOT/data/{train,test}/<stem>.png   photo | drawing side by side (any size; each half resized)
    ROOT/landmark/ALL/<stem>.txt        5 lines "x y" in the pixel coordinates of the half image
    ROOT/mask/ALL/<stem>.png            person mask, white = person (RGB masks are converted)

Separate halves are accepted too: ``ROOT/A/<split>/<stem>.png`` photos and ``ROOT/B/<split>/<stem>.png`` drawings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..ops.distance_transform import drawing_distance_maps
from .base import SplitDataModule
from .batches import PairedBatch
from .io import DatasetError, image_size, list_images, read_image, read_landmarks
from .transforms import paired_transform

#: Landmark order after a horizontal flip: the eyes and the mouth corners swap sides.
FLIP_ORDER = [1, 0, 2, 4, 3]


@dataclass(frozen=True)
class PairedRecord:
    """Files of one sample. ``drawing`` is ``None`` for photo-only prediction; ``combined`` marks A|B files."""

    name: str
    photo: Path
    drawing: Path | None
    landmarks: Path
    mask: Path
    combined: bool = False


def _check_record(record: PairedRecord) -> list[str]:
    problems = []
    try:
        width, height = image_size(record.photo)
        if record.combined:
            width //= 2
        if record.drawing is not None and not record.combined:
            image_size(record.drawing)
    except Exception as error:  # noqa: BLE001 - any decoding failure is reported, not raised one by one
        return [f"{record.photo}: unreadable image ({error})"]
    if not record.mask.is_file():
        problems.append(f"{record.name}: missing mask file {record.mask}")
    else:
        try:
            image_size(record.mask)
        except Exception as error:  # noqa: BLE001
            problems.append(f"{record.mask}: unreadable mask ({error})")
    if not record.landmarks.is_file():
        problems.append(f"{record.name}: missing landmark file {record.landmarks}")
        return problems
    try:
        points = read_landmarks(record.landmarks)
    except ValueError as error:
        return [*problems, str(error)]
    outside = (points[:, 0] < 0) | (points[:, 0] >= width) | (points[:, 1] < 0) | (points[:, 1] >= height)
    if outside.any():
        problems.append(
            f"{record.landmarks}: landmark(s) {np.flatnonzero(outside).tolist()} outside the {width}×{height} image"
        )
    return problems


def find_records(root: Path, split: str, landmark_dir: Path, mask_dir: Path) -> list[PairedRecord]:
    """Discover the samples of a split in either supported layout (combined A|B or separate A/B folders)."""
    combined = list_images(root / "data" / split)
    if combined:
        return [
            PairedRecord(p.stem, p, p, landmark_dir / f"{p.stem}.txt", mask_dir / f"{p.stem}.png", True)
            for p in combined
        ]
    drawings = {d.stem: d for d in list_images(root / "B" / split)}
    return [
        PairedRecord(
            photo.stem,
            photo,
            drawings.get(photo.stem, root / "B" / split / photo.name),
            landmark_dir / f"{photo.stem}.txt",
            mask_dir / f"{photo.stem}.png",
        )
        for photo in list_images(root / "A" / split)
    ]


def validate_records(root: Path, records: list[PairedRecord], what: str) -> None:
    """Raise one :class:`DatasetError` listing every problem of ``records`` (or if there are none)."""
    if not records:
        raise DatasetError(
            root,
            [f"no {what} images found (expected {root}/data/<split>/*.png or {root}/A/<split>/ and {root}/B/<split>/)"],
        )
    problems = []
    for record in records:
        if record.drawing is not None and not record.combined and not record.drawing.is_file():
            problems.append(f"{record.name}: missing drawing {record.drawing}")
        problems += _check_record(record)
    if problems:
        raise DatasetError(root, problems)


class PairedDataset(Dataset):
    """Samples of aligned photos with drawings (optional), landmarks and person masks.

    Args:
        records: the files, see :func:`find_records`.
        image_size: side of the square tensors (each half is resized to it; landmarks scaled to match).
        flip_prob: probability of a horizontal flip (training only in the paper).
    """

    def __init__(self, records: list[PairedRecord], image_size: int = 512, flip_prob: float = 0.0) -> None:
        self.records = records
        self.image_size = image_size
        self.transform = paired_transform(flip_prob)
        self._seeded_in: int | None = None

    def _seed(self) -> None:
        # Albumentations seeds each Compose once; forked data-loader workers would all replay the same flips.
        # Re-seed once per process from torch's per-worker seed (which follows seed_everything).
        if self._seeded_in != os.getpid():
            self.transform.set_random_seed(torch.initial_seed() % 2**32)
            self._seeded_in = os.getpid()

    def __len__(self) -> int:
        return len(self.records)

    def _load(self, record: PairedRecord) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        size = self.image_size
        photo = read_image(record.photo, "RGB")
        drawing = None
        if record.combined:
            half = photo.shape[1] // 2
            drawing_rgb = photo[:, half : 2 * half]
            photo = photo[:, :half]
            if record.drawing is not None:
                drawing = cv2.cvtColor(np.ascontiguousarray(drawing_rgb), cv2.COLOR_RGB2GRAY)
        elif record.drawing is not None:
            drawing = read_image(record.drawing, "L")
        height, width = photo.shape[:2]
        landmarks = read_landmarks(record.landmarks) * np.array([size / width, size / height], np.float32)
        mask = read_image(record.mask, "L")

        def resize(image: np.ndarray, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
            return cv2.resize(image, (size, size), interpolation=interpolation)

        return (resize(photo), None if drawing is None else resize(drawing), resize(mask, cv2.INTER_LINEAR), landmarks)

    def __getitem__(self, index: int) -> PairedBatch:
        self._seed()
        record = self.records[index]
        photo, drawing, mask, landmarks = self._load(record)
        targets = {"image": photo, "mask": mask, "keypoints": landmarks}
        if drawing is not None:
            targets["drawing"] = drawing
        out = self.transform(**targets)
        landmarks = np.asarray(out["keypoints"], dtype=np.float32)
        if any(name == "HorizontalFlip" for name, _ in out["applied_transforms"]):
            landmarks = landmarks[FLIP_ORDER]
        sample = PairedBatch(
            photo=torch.from_numpy(out["image"]).permute(2, 0, 1).float() / 127.5 - 1,
            landmarks=torch.from_numpy(landmarks),
            background_mask=(torch.from_numpy(out["mask"]).float() / 255).unsqueeze(0),
            name=record.name,
        )
        if drawing is not None:
            sample.drawing = torch.from_numpy(out["drawing"]).float().unsqueeze(0) / 127.5 - 1
            sample.drawing_dt = torch.from_numpy(drawing_distance_maps(out["drawing"]))
        return sample


class APDrawingDataModule(SplitDataModule):
    """Paired photo→drawing data for APDrawingGAN.

    Args:
        root: dataset folder (APDrawingDB layout, see the module docstring).
        image_size: square side fed to the model (512 in the paper).
        batch_size: samples per batch (1 in the paper).
        num_workers: data-loading worker processes (-1: one per CPU core).
        flip_prob: horizontal-flip probability for training.
        train_split: folder name of the training split.
        val_split: folder name used for validation and test (APDrawingDB has no separate validation split).
        landmark_dir: defaults to ``root/landmark/ALL``.
        mask_dir: defaults to ``root/mask/ALL``.
        predict_dir: folder of photos to draw (single aligned photos, or A|B pairs when
            ``predict_combined``); defaults to the ``val_split`` pairs.
        predict_combined: whether ``predict_dir`` holds A|B pairs.
        predict_output_dir: where ``predict`` writes one ``<stem>.png`` drawing per photo.
        overwrite: allow ``predict`` to replace existing files in ``predict_output_dir``.
    """

    def __init__(
        self,
        root: str = "datasets/APDrawingDB",
        image_size: int = 512,
        batch_size: int = 1,
        num_workers: int = 4,
        flip_prob: float = 0.5,
        train_split: str = "train",
        val_split: str = "test",
        landmark_dir: str | None = None,
        mask_dir: str | None = None,
        predict_dir: str | None = None,
        predict_combined: bool = False,
        predict_output_dir: str = "outputs/apdrawinggan",
        overwrite: bool = False,
    ) -> None:
        super().__init__(batch_size, num_workers)
        self.save_hyperparameters()
        self.root = Path(root)
        self.image_size = image_size
        self.landmark_dir = Path(landmark_dir) if landmark_dir else self.root / "landmark" / "ALL"
        self.mask_dir = Path(mask_dir) if mask_dir else self.root / "mask" / "ALL"
        self.predict_output_dir = Path(predict_output_dir)
        self.overwrite = overwrite

    def _records(self, split: str) -> list[PairedRecord]:
        records = find_records(self.root, split, self.landmark_dir, self.mask_dir)
        validate_records(self.root, records, f"'{split}'")
        return records

    def _predict_records(self) -> list[PairedRecord]:
        hp = self.hparams
        if hp.predict_dir is None:
            records = [
                PairedRecord(r.name, r.photo, None, r.landmarks, r.mask, r.combined)
                for r in find_records(self.root, hp.val_split, self.landmark_dir, self.mask_dir)
            ]
        else:
            records = [
                PairedRecord(
                    p.stem,
                    p,
                    None,
                    self.landmark_dir / f"{p.stem}.txt",
                    self.mask_dir / f"{p.stem}.png",
                    hp.predict_combined,
                )
                for p in list_images(hp.predict_dir)
            ]
        validate_records(Path(hp.predict_dir or self.root), records, "prediction")
        return records

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if stage in (None, "fit"):
            self.datasets["train"] = PairedDataset(self._records(hp.train_split), self.image_size, hp.flip_prob)
        if stage in (None, "fit", "validate", "test"):
            self.datasets["val"] = PairedDataset(self._records(hp.val_split), self.image_size, 0.0)
        if stage == "predict":
            self.datasets["predict"] = PairedDataset(self._predict_records(), self.image_size, 0.0)

    def collate_fn(self, key: str):
        return PairedBatch.collate
