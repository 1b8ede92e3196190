"""Reading photos for drawing: any common format, EXIF orientation, a pixel limit checked before decoding.

:func:`read_photo` returns the full image. :func:`open_photo` is what the :class:`~apd_lightning.draw.Drawer`
uses for files and bytes: a large JPEG is decoded at a reduced scale (libjpeg's DCT scaling through PIL's
``draft``, several times faster than a full decode), which is enough for face detection and for the aligned
model input of all but small faces; the full image is decoded only when a face needs it.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..data.io import _flatten_alpha, _to_8bit
from .errors import ImageTooLargeError, UnreadableImageError

#: Largest photo accepted by default, in pixels (width × height).
DEFAULT_MAX_PIXELS = 50_000_000
#: A JPEG is decoded at a reduced scale when its long side exceeds this (the reduced image keeps at least it).
DRAFT_LONG_SIDE = 2000

PhotoSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


@dataclass
class Photo:
    """A decoded photo, possibly at a reduced scale.

    Attributes:
        image: ``(h, w, 3)`` uint8 RGB, EXIF orientation applied.
        size: ``(width, height)`` of the full photo after EXIF orientation.
        name: the file name for messages (``"photo"`` for bytes and arrays).
        full: decodes the full-resolution image, or ``None`` when ``image`` is already full size.
    """

    image: np.ndarray
    size: tuple[int, int]
    name: str = "photo"
    full: Callable[[], np.ndarray] | None = None

    @property
    def scale(self) -> tuple[float, float]:
        """``(sx, sy)``: pixels of :attr:`image` per photo pixel along x and y (1 at full size)."""
        return self.image.shape[1] / self.size[0], self.image.shape[0] / self.size[1]

    def load_full(self) -> None:
        """Replace :attr:`image` by the full-resolution decode (no-op when it is full size already)."""
        if self.full is not None:
            self.image, self.full = self.full(), None


def _name(source: PhotoSource) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "photo"))).name or "photo"


def _open(source: PhotoSource, name: str) -> Image.Image:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike) and not Path(source).is_file():
        raise UnreadableImageError(f"{name}: no such file")
    try:
        return Image.open(source)
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{name}: the image is too large to open safely") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UnreadableImageError(f"{name}: not a readable image (JPEG, PNG, WebP, BMP or TIFF)") from None


def _check_pixels(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}×{height} = {width * height / 1e6:.1f} megapixels, more than the limit of "
            f"{max_pixels / 1e6:g} megapixels"
        )
    if width < 1 or height < 1:
        raise UnreadableImageError(f"{name}: the image is empty ({width}×{height})")


def _decode(image: Image.Image, name: str) -> np.ndarray:
    """Load, orient and convert to RGB uint8; decoding errors become :class:`UnreadableImageError`."""
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        return np.asarray(_flatten_alpha(_to_8bit(image)).convert("RGB"))
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{name}: the image is too large to open safely") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise UnreadableImageError(f"{name}: the image data is damaged or truncated ({error})") from None


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    orientation = image.getexif().get(0x0112, 1)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def read_photo(source: PhotoSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a photo as ``(H, W, 3)`` uint8 RGB, EXIF orientation applied.

    Grayscale, palette and 16-bit images are converted; transparency is composited on white.

    Args:
        source: a path, the file's bytes, or a binary file object.
        max_pixels: largest width × height accepted, checked from the header before decoding.

    Raises:
        ImageTooLargeError: the image has more than ``max_pixels`` pixels.
        UnreadableImageError: not a readable image.
    """
    name = _name(source)
    with _open(source, name) as image:
        _check_pixels(image, name, max_pixels)
        return _decode(image, name)


def open_photo(source: PhotoSource, max_pixels: int = DEFAULT_MAX_PIXELS, long_side: int = DRAFT_LONG_SIDE) -> Photo:
    """Read a photo for drawing: like :func:`read_photo`, but a JPEG larger than ``long_side`` is decoded at the
    smallest libjpeg scale (1/2, 1/4 or 1/8) that keeps its long side at least ``long_side`` pixels.

    Raises:
        ImageTooLargeError: the image has more than ``max_pixels`` pixels.
        UnreadableImageError: not a readable image.
    """
    name = _name(source)
    if not isinstance(source, str | os.PathLike | bytes | bytearray | memoryview):
        source = source.read()  # a stream can be read once: keep its bytes for a full decode later
    with _open(source, name) as image:
        _check_pixels(image, name, max_pixels)
        size = _oriented_size(image)
        width, height = image.size
        if image.format != "JPEG" or max(width, height) <= long_side:
            return Photo(_decode(image, name), size, name)
        factor = long_side / max(width, height)
        image.draft("RGB", (math.ceil(width * factor), math.ceil(height * factor)))
        reduced = _decode(image, name)
    return Photo(reduced, size, name, full=lambda: read_photo(source, max_pixels))
