"""read_photo / open_photo: formats, orientation, the pixel limit before decoding, unreadable inputs."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apd_lightning.draw import DEFAULT_MAX_PIXELS, ImageTooLargeError, UnreadableImageError, open_photo, read_photo


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width × height`` but which holds no pixel data (a decompression-bomb stand-in:
    decoding it would fail, so only a check of the header can report the size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)


def test_path_bytes_and_file_object_give_the_same_pixels(tmp_path: Path, image):
    path = tmp_path / "a.png"
    Image.fromarray(image).save(path)
    from_path = read_photo(path)
    assert from_path.shape == (30, 40, 3) and from_path.dtype == np.uint8
    np.testing.assert_array_equal(from_path, image)
    np.testing.assert_array_equal(read_photo(path.read_bytes()), image)
    with path.open("rb") as handle:
        np.testing.assert_array_equal(read_photo(handle), image)
    np.testing.assert_array_equal(read_photo(str(path)), image)


def test_exif_orientation_and_mode_conversions(tmp_path: Path, image):
    exif = Image.Exif()
    exif[0x0112] = 6  # the viewer turns the stored image 90° clockwise
    Image.fromarray(image).save(tmp_path / "exif.jpg", quality=100, exif=exif)
    assert read_photo(tmp_path / "exif.jpg").shape == (40, 30, 3)
    gray = image[..., 0]
    Image.fromarray(gray).save(tmp_path / "gray.png")
    np.testing.assert_array_equal(read_photo(tmp_path / "gray.png"), np.repeat(gray[..., None], 3, axis=2))
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    np.testing.assert_array_equal(read_photo(tmp_path / "gray16.png")[..., 0], gray)
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    rgba[:5, :5, 3] = 0  # transparent corner: composited on white
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    out = read_photo(tmp_path / "rgba.png")
    assert (out[:5, :5] == 255).all() and np.array_equal(out[10:, 10:], image[10:, 10:])
    Image.fromarray(image).convert("P").save(tmp_path / "palette.png")
    assert read_photo(tmp_path / "palette.png").shape == (30, 40, 3)
    for suffix in ("webp", "bmp", "tiff"):
        Image.fromarray(image).save(tmp_path / f"a.{suffix}", **({"lossless": True} if suffix == "webp" else {}))
        np.testing.assert_array_equal(read_photo(tmp_path / f"a.{suffix}"), image)


def test_the_pixel_limit_is_checked_from_the_header_before_decoding(tmp_path: Path):
    bomb = png_header_only(8000, 8000)  # 64 MP declared, nothing behind it
    with pytest.raises(ImageTooLargeError, match=r"8000×8000 = 64.0 megapixels, more than the limit of 50"):
        read_photo(bomb)
    with pytest.raises(ImageTooLargeError):
        open_photo(bomb)
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header_only(40000, 40000))  # past PIL's own decompression-bomb limit
    with pytest.raises(ImageTooLargeError, match="huge.png"):
        read_photo(huge)
    assert DEFAULT_MAX_PIXELS == 50_000_000
    Image.new("RGB", (100, 60)).save(tmp_path / "ok.png")
    with pytest.raises(ImageTooLargeError, match="100×60"):
        read_photo(tmp_path / "ok.png", max_pixels=5999)
    assert read_photo(tmp_path / "ok.png", max_pixels=6000).shape == (60, 100, 3)


def test_unreadable_inputs_give_one_line_naming_only_the_file(tmp_path: Path):
    (tmp_path / "notes.jpg").write_text("not an image")
    truncated = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(truncated, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(truncated.getvalue()[: len(truncated.getvalue()) // 2])
    for source, words in (
        (tmp_path / "notes.jpg", "notes.jpg: not a readable image"),
        (tmp_path / "missing.png", "missing.png: no such file"),
        (tmp_path / "cut.jpg", "cut.jpg: the image data is damaged or truncated"),
        (b"\x00\x01garbage", "photo: not a readable image"),
    ):
        with pytest.raises(UnreadableImageError) as caught:
            read_photo(source)
        message = str(caught.value)
        assert message.startswith(words) and "\n" not in message and str(tmp_path) not in message


def test_large_jpegs_are_decoded_at_a_reduced_scale_and_in_full_on_demand(tmp_path: Path):
    rng = np.random.default_rng(1)
    image = np.kron(rng.integers(0, 256, (30, 45, 3), dtype=np.uint8), np.ones((100, 100, 1), np.uint8))
    Image.fromarray(image).save(tmp_path / "big.jpg", quality=95)  # 4500×3000
    photo = open_photo(tmp_path / "big.jpg")
    assert photo.size == (4500, 3000) and photo.image.shape == (1500, 2250, 3)  # libjpeg's 1/2 scale
    assert photo.scale == (0.5, 0.5)
    # the reduced decode shows the same picture: block centres agree with the full image
    assert np.abs(photo.image[25::50, 25::50].astype(int) - image[50::100, 50::100]).mean() < 3
    photo.load_full()
    assert photo.image.shape == (3000, 4500, 3) and photo.scale == (1.0, 1.0) and photo.full is None
    small = open_photo(tmp_path / "big.jpg", long_side=5000)
    assert small.full is None and small.image.shape == (3000, 4500, 3)
