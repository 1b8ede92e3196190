"""Distance transforms: exact (SciPy, for ground truth in the data workers) and differentiable (Kornia).

Convention (Kornia's): the output holds, for every pixel, the Euclidean distance in pixels to the nearest
non-zero pixel of the input.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor


def exact_distance_transform(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance from each pixel to the nearest non-zero pixel (SciPy EDT, no gradient).

    Args:
        mask: ``(H, W)`` array; non-zero pixels are the targets.

    Returns:
        ``(H, W)`` float32 distances in pixels; ``inf`` everywhere when ``mask`` has no non-zero pixel.
    """
    target = np.asarray(mask) != 0
    if not target.any():
        return np.full(target.shape, np.inf, dtype=np.float32)
    return ndimage.distance_transform_edt(~target).astype(np.float32)


def drawing_distance_maps(drawing: np.ndarray, threshold: int = 127) -> np.ndarray:
    """The paper's two normalised ground-truth distance maps of a grayscale drawing.

    Channel 0 (``dt1``) is each pixel's distance to the nearest dark (line) pixel, channel 1 (``dt2``) the
    distance to the nearest white pixel; each is divided by its own maximum. Where a drawing has no dark (or no
    white) pixel at all, the map is 1 everywhere instead of dividing by zero.

    Args:
        drawing: ``(H, W)`` uint8 gray drawing (dark lines on white).
        threshold: pixels ``<= threshold`` are dark.

    Returns:
        ``(2, H, W)`` float32 in [0, 1].
    """
    dark = np.asarray(drawing) <= threshold
    maps = []
    for target in (dark, ~dark):
        dist = exact_distance_transform(target)
        peak = float(dist.max())
        maps.append(np.ones_like(dist) if not np.isfinite(peak) or peak == 0 else dist / peak)
    return np.stack(maps).astype(np.float32)


def distance_transform(image: Tensor, kernel_size: int = 3, h: float = 0.35) -> Tensor:
    """Differentiable approximate distance transform (Kornia), always computed in float32 with autocast off.

    Kornia's op is wrong in half precision, so this wrapper casts up and back.

    Args:
        image: ``(B, C, H, W)`` soft target map in [0, 1] (1 = target pixel).
        kernel_size: Kornia's kernel size.
        h: Kornia's soft-min temperature.

    Returns:
        ``(B, C, H, W)`` distances in pixels, in the input's dtype.
    """
    from kornia.contrib import distance_transform as kornia_distance_transform

    if image.ndim != 4:
        raise ValueError(f"image must have shape (B, C, H, W), got {tuple(image.shape)}")
    device_type = image.device.type if image.device.type in ("cuda", "cpu") else "cpu"
    with torch.autocast(device_type=device_type, enabled=False):
        out = kornia_distance_transform(image.float(), kernel_size=kernel_size, h=h)
    return out.to(image.dtype)
