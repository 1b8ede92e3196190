"""Typed batches. Images are channels-first float tensors in [-1, 1]; masks in [0, 1].

A dataset returns one instance per sample (unbatched tensors, a single name); :meth:`Batch.collate` stacks them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

import torch
from torch import Tensor

B = TypeVar("B", bound="Batch")


def _collate_field(values: list[Any]) -> Any:
    if values[0] is None:
        return None
    if isinstance(values[0], Tensor):
        return torch.stack(values)
    return list(values)


class Batch:
    """Base of the batch dataclasses: one collate for all, and the batch size from the first field."""

    def __len__(self) -> int:
        return getattr(self, fields(self)[0].name).shape[0]

    @classmethod
    def collate(cls: type[B], samples: list[B]) -> B:
        """Stack per-sample instances (each with unbatched tensors) into one batch; ``None`` fields stay ``None``
        and other values become lists."""
        return cls(**{f.name: _collate_field([getattr(s, f.name) for s in samples]) for f in fields(cls)})


@dataclass
class PairedBatch(Batch):
    """A batch of aligned photo / drawing pairs (APDrawingGAN).

    Attributes:
        photo: ``(B, 3, H, W)`` in [-1, 1].
        landmarks: ``(B, 5, 2)`` (x, y) pixels: image-left eye, image-right eye, nose tip, image-left and
            image-right mouth corners.
        background_mask: ``(B, 1, H, W)`` in [0, 1], 1 = person (the dataset's "background mask", white = person).
        name: file stems.
        drawing: ``(B, 1, H, W)`` in [-1, 1]; ``None`` when predicting from photos alone.
        drawing_dt: ``(B, 2, H, W)`` in [0, 1]: exact distance of every pixel to the drawing's nearest dark /
            white pixel, each map divided by its maximum; ``None`` without a drawing.
    """

    photo: Tensor
    landmarks: Tensor
    background_mask: Tensor
    name: list[str]
    drawing: Tensor | None = None
    drawing_dt: Tensor | None = None


@dataclass
class UnpairedBatch(Batch):
    """A batch of photos with independently drawn drawings (UPD / QMUPD).

    Attributes:
        photo: ``(B, 3, H, W)`` in [-1, 1].
        drawing: ``(B, 1, H, W)`` in [-1, 1].
        style: ``(B, 3)`` the drawings' (soft) style vectors.
        style_label: ``(B,)`` int64 ``argmax(style)``.
        name: photo file stems.
        drawing_name: drawing file stems.
        photo_masks: ``(B, 3, H, W)`` in [0, 1], the photo's region masks in
            :data:`~apd_lightning.ops.face_parts.REGIONS` order (soft edges); ``None`` in validation.
        drawing_masks: ``(B, 3, H, W)`` the same for the drawing; ``None`` in validation.
        true_drawing: ``(B, 3, H, W)`` in [-1, 1]: channel ``k`` is the true drawing of the photo in style
            ``k + 1`` (ground truth for scoring only, never for training); ``None`` when there is none.
    """

    photo: Tensor
    drawing: Tensor
    style: Tensor
    style_label: Tensor
    name: list[str]
    drawing_name: list[str]
    photo_masks: Tensor | None = None
    drawing_masks: Tensor | None = None
    true_drawing: Tensor | None = None


@dataclass
class PhotoBatch(Batch):
    """Photos to draw (QMUPD's ``predict``).

    Attributes:
        photo: ``(B, 3, S, S)`` in [-1, 1], resized to the model's size.
        name: file stems.
        original_size: ``(B, 2)`` int64 (height, width) of the files.
    """

    photo: Tensor
    name: list[str]
    original_size: Tensor


@dataclass
class RatedBatch(Batch):
    """Drawings with their ratings (the quality regressor).

    Attributes:
        drawing: ``(B, 1, H, W)`` in [-1, 1].
        score: ``(B,)`` float ratings, higher is better.
        name: file names relative to the dataset root.
    """

    drawing: Tensor
    score: Tensor
    name: list[str]
