"""sample: the full-size photo that ``make demo`` draws."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from apd_lightning.draw.sample import sample_photo, write_sample_photo


def test_the_sample_photo_is_large_non_square_deterministic_and_written_as_jpeg(tmp_path):
    photo = sample_photo(900, 600)
    assert photo.shape == (600, 900, 3) and photo.dtype == np.uint8
    np.testing.assert_array_equal(photo, sample_photo(900, 600))
    assert not np.array_equal(photo, sample_photo(900, 600, seed=1))
    path = write_sample_photo(tmp_path / "sub" / "photo.jpg", 900, 600)
    assert Image.open(path).format == "JPEG" and Image.open(path).size == (900, 600)
    with pytest.raises(ValueError, match="width"):
        sample_photo(400, 600)
