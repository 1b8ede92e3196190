"""How drawings enter the metric networks: one documented conversion, in full precision."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

#: Values this far outside [-1, 1] are taken for a wrong value range (e.g. 0-255) rather than rounding.
RANGE_TOLERANCE = 1e-3


def drawing_to_unit_rgb(drawing: Tensor) -> Tensor:
    """Drawings as produced by the generators → 3-channel float32 images in [0, 1] for the metric networks.

    The single conversion the metrics apply: ``(x + 1) / 2``, 1 channel repeated to 3. There is no 8-bit
    quantisation, so drawings scored straight from a generator differ from the same drawings saved as PNG
    by at most 1/255 per pixel.

    Args:
        drawing: ``(B, 1, H, W)`` (or already 3-channel ``(B, 3, H, W)``) in [-1, 1].

    Returns:
        ``(B, 3, H, W)`` float32 in [0, 1].

    Raises:
        ValueError: wrong shape, or values outside [-1, 1] (e.g. images in 0-255).
    """
    if drawing.ndim != 4 or drawing.shape[1] not in (1, 3):
        raise ValueError(f"drawings must be (B, 1, H, W) in [-1, 1], got {tuple(drawing.shape)}")
    drawing = drawing.float()
    low, high = drawing.aminmax()
    if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ValueError(f"drawings must be in [-1, 1], got values in [{low.item():.3g}, {high.item():.3g}]")
    return ((drawing.clamp(-1, 1) + 1) / 2).expand(-1, 3, -1, -1)


@contextlib.contextmanager
def full_precision(device: torch.device) -> Iterator[None]:
    """Disable autocast: metric features and statistics are computed in float32 even under AMP."""
    with torch.autocast(device_type=device.type, enabled=False):
        yield
