"""A fixed, download-free perceptual distance: multi-scale structural dissimilarity (1 − SSIM).

It stands in for LPIPS in UPD / QMUPD's relaxed cycle when the AlexNet weights are not available
(``auxiliaries: classical``). It compares local means, contrasts and correlations over a Gaussian pyramid,
where LPIPS compares learned deep features.
"""

from __future__ import annotations

import torch.nn.functional as F
from kornia.metrics import ssim
from torch import Tensor, nn


def multiscale_structural_distance(image: Tensor, other: Tensor, levels: int = 3, window: int = 5) -> Tensor:
    """Mean over pyramid levels of the mean ``(1 − SSIM) / 2``, per image.

    Args:
        image: ``(B, C, H, W)`` in [-1, 1].
        other: ``(B, C, H, W)`` in [-1, 1].
        levels: pyramid levels (each halves the size by 2×2 average pooling).
        window: SSIM window taps (Gaussian, σ = 1.5); every level must be larger than ``window // 2``.

    Returns:
        ``(B,)`` distances in [0, 1]; 0 for identical images.

    Example:
        >>> x = torch.rand(2, 3, 32, 32) * 2 - 1
        >>> multiscale_structural_distance(x, x).abs().max() < 1e-6
        tensor(True)
    """
    if image.shape != other.shape or image.ndim != 4:
        raise ValueError(f"need two (B, C, H, W) images of one shape, got {tuple(image.shape)}, {tuple(other.shape)}")
    if min(image.shape[-2:]) >> (levels - 1) <= window // 2:
        raise ValueError(f"{levels} levels of a {tuple(image.shape[-2:])} image are too small for window {window}")
    a, b = (image + 1) / 2, (other + 1) / 2
    total = image.new_zeros(image.shape[0])
    for level in range(levels):
        if level:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        total = total + (1 - ssim(a, b, window, max_val=1.0)).mean((1, 2, 3)) / 2
    return total / levels


class MultiScaleStructuralDistance(nn.Module):
    """Module form of :func:`multiscale_structural_distance` with the call signature of LPIPS.

    Shape:
        two ``(B, C, H, W)`` images in [-1, 1] -> ``(B, 1, 1, 1)`` distances in [0, 1].
    """

    def __init__(self, levels: int = 3, window: int = 5) -> None:
        super().__init__()
        self.levels, self.window = levels, window

    def forward(self, image: Tensor, other: Tensor) -> Tensor:
        return multiscale_structural_distance(image, other, self.levels, self.window)[:, None, None, None]
