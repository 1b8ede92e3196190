"""The job a model's worker thread runs for one request: photo bytes in, one PNG drawing out."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from .uploads import UploadError

FRAMES = ("original", "aligned")
_STYLE_NUMBER = re.compile(r"^(?:style)?([0-9]+)$")
# PNG level 1: line drawings are mostly white and compress well even at the fastest level (a 12-megapixel
# drawing encodes in a fraction of the time of the default level 6).
PNG_COMPRESS_LEVEL = 1


@dataclass
class Drawn:
    """One answer: the PNG, the style it was drawn in, the faces' boxes and the seconds each stage took."""

    png: bytes
    style: str
    size: tuple[int, int]
    boxes: list[tuple[float, float, float, float]]
    timings: dict[str, float] = field(default_factory=dict)
    started: float = 0.0


def parse_style(value: str | None, style_names: tuple[str, ...]) -> str | None:
    """The ``styles`` argument of ``Drawer.draw`` for one requested style.

    ``value``: a style number (``"2"``), a style name (``"style2"``) or weights of a mix (``"1:1:0"``, at least one
    positive, none negative), scaled to sum 1 like the style vectors the model was trained on (``"0.5:0.5:0"``);
    empty means the first style. Models without styles take none.

    Raises:
        UploadError: 400 with the reason.
    """
    value = (value or "").strip()
    if not style_names:
        if value:
            raise UploadError(400, "This model has no styles; leave 'style' empty.")
        return None
    if not value:
        return "1"
    number = _STYLE_NUMBER.match(value)
    if number:
        if not 1 <= int(number.group(1)) <= len(style_names):
            raise UploadError(400, f"Styles run from 1 to {len(style_names)}, got {value!r}.")
        return number.group(1)
    try:
        weights = [float(part) for part in value.split(":")]
    except ValueError:
        weights = []
    if len(weights) != len(style_names) or not np.isfinite(weights).all() or min(weights) < 0 or sum(weights) <= 0:
        raise UploadError(
            400,
            f"A style is a number from 1 to {len(style_names)} or {len(style_names)} non-negative weights "
            f"like '0.5:0.5:0', got {value!r}.",
        )
    return ":".join(f"{w / sum(weights):.3g}" for w in weights)


def combine(images: list[np.ndarray]) -> np.ndarray:
    """One grayscale image from the drawings of several faces: photo-sized ones are overlaid (darkest line wins,
    the background is white), aligned squares of other sizes are put side by side."""
    if len({image.shape for image in images}) == 1:
        return np.minimum.reduce(images) if len(images) > 1 else images[0]
    height = max(image.shape[0] for image in images)
    padded = [np.pad(i, ((0, height - i.shape[0]), (0, 0)), constant_values=255) for i in images]
    return np.concatenate(padded, axis=1)


def encode_png(image: np.ndarray) -> bytes:
    """``(H, W)`` uint8 grayscale -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(image, "L").save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def draw_png(
    drawer: Any, photo: bytes, name: str, style: str | None, all_faces: bool = False, frame: str = "original"
) -> Drawn:
    """Draw ``photo`` (encoded image bytes, file name ``name``) with ``drawer`` in one style; encode it as PNG.

    Runs on the model's worker thread. Raises what ``Drawer.draw`` raises (``NoFaceError``, ...), whose messages
    then name the uploaded file.
    """
    started = time.perf_counter()
    source = io.BytesIO(photo)
    source.name = name
    result = drawer.draw(source, styles=style, all_faces=all_faces, frame=frame)
    names = list(result.faces[0].drawings)
    if len(names) != 1:
        raise RuntimeError(f"expected one drawing per face, got {names}")
    encode_start = time.perf_counter()
    png = encode_png(combine([face.drawings[names[0]] for face in result.faces]))
    timings = {**result.timings, "encode": time.perf_counter() - encode_start}
    boxes = [tuple(float(v) for v in face.box) for face in result.faces]
    return Drawn(png, names[0], tuple(result.size), boxes, timings, started)
