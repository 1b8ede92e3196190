"""How drawings enter the metric networks."""

from __future__ import annotations

import torch

from apd_lightning.metrics import (
    drawing_to_unit_rgb,
)


def test_conversion_is_documented_affine_map():
    drawing = torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 1, 1, 3)
    rgb = drawing_to_unit_rgb(drawing)
    assert rgb.shape == (1, 3, 1, 3)
    torch.testing.assert_close(rgb[0, :, 0], torch.tensor([[0.0, 0.5, 1.0]] * 3))
