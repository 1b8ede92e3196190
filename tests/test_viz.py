"""Notebook figures: the style path and the style grid."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.viz import style_grid, style_path

pytestmark = pytest.mark.usefixtures("one_thread_and_restored_determinism")


def test_style_path_and_grid():
    styles = style_path(3, 2)
    assert list(styles.values()) == [[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1]]
    assert list(styles)[1] == "0.5/0.5/0"

    def fake_generator(photo, style):  # a drawing whose gray level is the style's first weight
        return (style[:, :1, None, None] * 2 - 1).expand(-1, 1, *photo.shape[-2:])

    grid = style_grid(fake_generator, torch.zeros(2, 3, 8, 8), styles)
    assert grid.shape == (3, 2 + 2 * 10, 2 + 6 * 10)  # 2 rows, photo + 5 styles, 8-px tiles and 2-px padding
    assert grid[0, 2, 12] == 1.0 and grid[0, 2, 22] == 0.5  # style 1 white, the 0.5 mix mid-gray
