"""Data: typed batches, datasets, transforms, datamodules and the procedural demo data."""

from .batches import Batch, PairedBatch, PhotoBatch, RatedBatch, UnpairedBatch
from .io import DatasetError, list_images, read_image, read_landmarks, write_landmarks
from .paired import APDrawingDataModule, PairedDataset, PairedRecord, find_records

__all__ = [
    "APDrawingDataModule",
    "Batch",
    "DatasetError",
    "PairedBatch",
    "PairedDataset",
    "PairedRecord",
    "find_records",
    "list_images",
    "read_image",
    "read_landmarks",
    "write_landmarks",
]

# QMUPD / UPD
from .unpaired import UnpairedDataModule, UnpairedDataset, find_unpaired  # noqa: E402

__all__ += ["PhotoBatch", "UnpairedBatch", "UnpairedDataModule", "UnpairedDataset", "find_unpaired"]

# rated drawings (quality regressor)
from .ratings import (  # noqa: E402
    RatedDrawingsDataModule,
    RatedDrawingsDataset,
    make_synthetic_ratings,
    read_ratings,
)

__all__ += ["RatedBatch", "RatedDrawingsDataModule", "RatedDrawingsDataset", "make_synthetic_ratings", "read_ratings"]
