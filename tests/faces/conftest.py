"""Fixtures for the face-preprocessing tests: astronaut variants written once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut portrait, ``(512, 512, 3)`` uint8 RGB."""
    data = pytest.importorskip("skimage.data")
    return data.astronaut()


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory, astronaut: np.ndarray) -> Path:
    """Photos in every supported flavour, plus two without a face.

    astronaut.jpg (RGB JPEG), exif.jpg (stored rotated, EXIF orientation 6 = rotate back on read),
    gray.png (L), rgba.png (RGBA, transparent top-left corner), gray16.png (16-bit), flat.png, noise.png.
    """
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(astronaut).save(folder / "astronaut.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was rotated: the viewer turns the stored image 90° clockwise
    Image.fromarray(np.rot90(astronaut, k=1).copy()).save(folder / "exif.jpg", quality=95, exif=exif)
    Image.fromarray(astronaut).convert("L").save(folder / "gray.png")
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    rgba[:64, :64, 3] = 0
    Image.fromarray(rgba).save(folder / "rgba.png")
    gray16 = (np.asarray(Image.fromarray(astronaut).convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(gray16).save(folder / "gray16.png")
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(folder / "flat.png")
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "noise.png")
    return folder
