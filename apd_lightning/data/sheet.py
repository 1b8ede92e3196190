"""Contact sheets: each photo followed by its drawings, for READMEs and quick looks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .io import list_images, read_image


def match_drawings(photos: str | Path, drawings: str | Path) -> list[tuple[Path, list[Path]]]:
    """Pair each photo with the drawings named ``<stem>.png`` or ``<stem>_<style>.png`` (QMUPD), sorted."""
    drawn = list_images(drawings)
    groups = []
    for photo in list_images(photos):
        matches = [d for d in drawn if d.stem == photo.stem or d.stem.startswith(f"{photo.stem}_")]
        if matches:
            groups.append((photo, sorted(matches, key=lambda d: (d.stem != photo.stem, d.stem))))
    return groups


def contact_sheet(
    photos: str | Path, drawings: str | Path, out: str | Path, max_rows: int = 8, columns: int = 2, tile: int = 128
) -> Path:
    """Write a PNG with one ``photo | drawing(s)`` group per photo, ``columns`` groups per row.

    Raises:
        FileNotFoundError: when no photo has a drawing of the same stem.
    """
    groups = match_drawings(photos, drawings)[: max_rows * columns]
    if not groups:
        raise FileNotFoundError(f"no photo in {photos} has a drawing named like it in {drawings}")
    width = 1 + max(len(matches) for _, matches in groups)
    rows, gap = -(-len(groups) // columns), 4
    sheet = Image.new("RGB", (columns * (width * tile + gap) + gap, rows * (tile + gap) + gap), "white")
    for index, (photo, matches) in enumerate(groups):
        row, col = divmod(index, columns)
        x, y = gap + col * (width * tile + gap), gap + row * (tile + gap)
        images = [read_image(photo, "RGB")] + [np.repeat(read_image(d, "L")[..., None], 3, 2) for d in matches]
        for offset, image in enumerate(images):
            sheet.paste(Image.fromarray(image).resize((tile, tile), Image.BICUBIC), (x + offset * tile, y))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
