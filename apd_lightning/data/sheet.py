"""Contact sheets: photo | drawing pairs side by side, for READMEs and quick looks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .io import list_images, read_image


def contact_sheet(photos: str | Path, drawings: str | Path, out: str | Path, max_rows: int = 8,
                  columns: int = 2, tile: int = 128) -> Path:
    """Write a PNG of ``photo | drawing`` pairs (matched by file stem), ``columns`` pairs per row.

    Raises:
        FileNotFoundError: when no photo has a drawing of the same stem.
    """
    drawn = {p.stem: p for p in list_images(drawings)}
    pairs = [(p, drawn[p.stem]) for p in list_images(photos) if p.stem in drawn][: max_rows * columns]
    if not pairs:
        raise FileNotFoundError(f"no photo in {photos} has a drawing of the same name in {drawings}")
    rows = -(-len(pairs) // columns)
    gap = 4
    sheet = Image.new("RGB", (columns * (2 * tile + gap) + gap, rows * (tile + gap) + gap), "white")
    for index, (photo, drawing) in enumerate(pairs):
        row, col = divmod(index, columns)
        x, y = gap + col * (2 * tile + gap), gap + row * (tile + gap)
        for offset, image in ((0, read_image(photo, "RGB")), (tile, np.repeat(read_image(drawing, "L")[..., None], 3, 2))):
            sheet.paste(Image.fromarray(image).resize((tile, tile), Image.BICUBIC), (x + offset, y))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
