"""A full-size photo to try ``draw`` on: a procedural demo portrait in a large, non-square frame.

``make demo`` ends by drawing it with the demo models: it is not one of the demo set's photos (another seed, a
different size and aspect, the face off-centre), yet it shows the kind of face those models learnt.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..data.demo import render_portrait


def sample_photo(width: int = 1800, height: int = 1200, seed: int = 2024) -> np.ndarray:
    """A demo portrait rendered at ``height`` px and widened to ``width`` (its background gradient is vertical, so
    replicating the side columns continues it), with the face left of centre.

    Returns:
        ``(height, width, 3)`` uint8 RGB.
    """
    if width < height:
        raise ValueError(f"the sample photo is landscape: width {width} must be >= height {height}")
    portrait = render_portrait(np.random.default_rng(seed), size=height).photo
    left = (width - height) // 3
    return cv2.copyMakeBorder(portrait, 0, 0, left, width - height - left, cv2.BORDER_REPLICATE)


def write_sample_photo(path: str | Path, width: int = 1800, height: int = 1200, seed: int = 2024) -> Path:
    """Save :func:`sample_photo` as a JPEG (quality 92) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sample_photo(width, height, seed)).save(path, quality=92)
    return path


if __name__ == "__main__":  # python -m apd_lightning.draw.sample OUT.jpg
    import sys

    print(write_sample_photo(sys.argv[1] if len(sys.argv) > 1 else "sample_photo.jpg"))
