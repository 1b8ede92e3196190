"""Image and annotation files: listing, robust reading, landmark files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


class DatasetError(ValueError):
    """A dataset folder has problems; the message lists every problem found."""

    def __init__(self, root: Path | str, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  - ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in dataset {root}:\n  - {shown}{more}")


def is_hidden(path: Path) -> bool:
    """True for dot-files and files inside dot-folders (e.g. ``.ipynb_checkpoints``)."""
    return any(part.startswith(".") for part in path.parts)


def list_images(folder: Path | str) -> list[Path]:
    """Image files directly inside ``folder``, sorted, hidden files ignored. Missing folder → empty list."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def _to_8bit(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        scale = 65535.0 if array.max() > 255 else 255.0
        return Image.fromarray(np.clip(array / scale * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return image


def _flatten_alpha(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image


def read_image(path: Path | str, mode: str = "RGB") -> np.ndarray:
    """Read an image as uint8 ``(H, W, 3)`` (``mode="RGB"``) or ``(H, W)`` (``mode="L"``).

    Handles EXIF orientation, grayscale, palette, 16-bit and RGBA (composited on white).
    """
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        image = _flatten_alpha(_to_8bit(image))
        return np.asarray(image.convert(mode))


def image_size(path: Path | str) -> tuple[int, int]:
    """(width, height) of an image file without decoding it."""
    with Image.open(path) as image:
        return image.size


def read_landmarks(path: Path | str) -> np.ndarray:
    """Read a 5-point landmark file (5 lines ``x y``) as a ``(5, 2)`` float32 array."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if len(rows) != 5 or any(len(r) != 2 for r in rows):
        raise ValueError(f"{path}: expected 5 lines of 'x y', got {len(rows)} line(s)")
    return np.asarray(rows, dtype=np.float32)


def write_landmarks(path: Path | str, landmarks: np.ndarray) -> None:
    """Write ``(5, 2)`` landmarks as 5 integer ``x y`` lines (the dataset format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{int(round(x))} {int(round(y))}\n" for x, y in np.asarray(landmarks)))
