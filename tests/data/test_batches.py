"""The typed batches: one collate for all (tensors stacked, None kept, names listed) and the batch size."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.data import PairedBatch, PhotoBatch, RatedBatch, UnpairedBatch


def _paired(i: int, with_drawing: bool) -> PairedBatch:
    drawing = torch.full((1, 8, 8), float(i)) if with_drawing else None
    return PairedBatch(
        torch.full((3, 8, 8), float(i)), torch.full((5, 2), float(i)), torch.ones(1, 8, 8), f"s{i}", drawing
    )


@pytest.mark.parametrize("with_drawing", [True, False])
def test_paired_collate_stacks_tensors_keeps_none_and_lists_names(with_drawing):
    batch = PairedBatch.collate([_paired(i, with_drawing) for i in range(3)])
    assert isinstance(batch, PairedBatch) and len(batch) == 3 and batch.name == ["s0", "s1", "s2"]
    assert batch.photo.shape == (3, 3, 8, 8) and batch.landmarks.shape == (3, 5, 2)
    assert batch.photo[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0]  # in sample order
    assert batch.drawing_dt is None
    assert (batch.drawing.shape == (3, 1, 8, 8)) if with_drawing else batch.drawing is None


def test_every_batch_type_collates_and_knows_its_size():
    photos = [PhotoBatch(torch.zeros(3, 8, 8), f"p{i}", torch.tensor([8, 6])) for i in range(2)]
    photo = PhotoBatch.collate(photos)
    assert len(photo) == 2 and photo.original_size.tolist() == [[8, 6], [8, 6]] and photo.name == ["p0", "p1"]
    rated = RatedBatch.collate([RatedBatch(torch.zeros(1, 8, 8), torch.tensor(0.25 * i), f"d{i}") for i in range(4)])
    assert len(rated) == 4 and rated.score.tolist() == [0.0, 0.25, 0.5, 0.75] and rated.drawing.shape == (4, 1, 8, 8)
    style = torch.tensor([0.1, 0.8, 0.1])
    sample = UnpairedBatch(torch.zeros(3, 8, 8), torch.zeros(1, 8, 8), style, style.argmax(), "p", "d")
    unpaired = UnpairedBatch.collate([sample, sample])
    assert len(unpaired) == 2 and unpaired.style_label.tolist() == [1, 1] and unpaired.photo_masks is None
    assert unpaired.drawing_name == ["d", "d"]
