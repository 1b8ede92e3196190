"""Typed batches. Images are channels-first float tensors in [-1, 1]; masks in [0, 1]."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor


def _collate_field(values: list[Any]) -> Any:
    if values[0] is None:
        return None
    if isinstance(values[0], Tensor):
        return torch.stack(values)
    return list(values)


@dataclass
class PairedBatch:
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

    def __len__(self) -> int:
        return self.photo.shape[0]

    @classmethod
    def collate(cls, samples: list[PairedBatch]) -> PairedBatch:
        """Stack per-sample instances (each with unbatched tensors) into one batch."""
        return cls(**{f.name: _collate_field([getattr(s, f.name) for s in samples]) for f in fields(cls)})
