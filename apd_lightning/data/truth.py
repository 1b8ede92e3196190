"""Ground truth for scoring an unpaired model: the true drawings of held-out photos, and labelled drawings
at a model's size (the independent style judge's training set).

The demo data writes ``test/B_true/<photo stem>_<k>.png``, the true drawing of each test photo in style
k = 1, 2, 3. Nothing here is read by training.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from .io import DatasetError, list_images, read_image


def find_true_drawings(folder: Path | str, stems: Sequence[str], num_styles: int = 3) -> dict[str, list[Path]] | None:
    """``{photo stem: [true drawing in style 1, ..., num_styles]}`` from ``folder/<stem>_<k>.png``.

    Returns:
        ``None`` when ``folder`` does not exist.

    Raises:
        DatasetError: ``folder`` exists but lacks some drawing (every missing file is listed).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = {p.name: p for p in list_images(folder)}
    truth, missing = {}, []
    for stem in stems:
        names = [f"{stem}_{k}.png" for k in range(1, num_styles + 1)]
        missing += [f"missing true drawing {folder / n}" for n in names if n not in found]
        truth[stem] = [found.get(n) for n in names]
    if missing:
        raise DatasetError(folder, missing)
    return truth


def read_drawing(path: Path | str, size: int) -> Tensor:
    """A drawing file as ``(1, size, size)`` in [-1, 1], bicubically resized (as the validation photos)."""
    image = cv2.resize(read_image(path, "L"), (size, size), interpolation=cv2.INTER_CUBIC)
    return torch.from_numpy(image).float()[None] / 127.5 - 1


def labelled_drawings(paths: Sequence[Path], styles: Sequence[Sequence[float]], size: int) -> tuple[Tensor, Tensor]:
    """``(N, 1, size, size)`` drawings in [-1, 1] and their ``(N,)`` int64 style indices (argmax of each
    style vector)."""
    if not paths or len(paths) != len(styles):
        raise ValueError(f"need one style per drawing and at least one drawing, got {len(paths)}, {len(styles)}")
    drawings = torch.stack([read_drawing(p, size) for p in paths])
    return drawings, torch.tensor([int(np.argmax(s)) for s in styles])
