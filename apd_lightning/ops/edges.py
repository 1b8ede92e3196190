"""A fixed, download-free edge operator: multi-scale Sobel gradient magnitude of the luminance.

It stands in for HED in UPD / QMUPD's relaxed cycle when the HED weights are not available
(``auxiliaries: classical``). It is not HED: a soft threshold drops slow shading and background gradients,
but every sharp enough intensity step counts, where HED was trained to keep the contours a person would draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_grayscale
from kornia.filters import gaussian_blur2d, sobel
from torch import Tensor, nn

_EPS = 1e-6  # inside the square root of the gradient magnitude (a finite gradient where the image is flat)


def multiscale_edges(
    image: Tensor, scales: Sequence[int] = (1, 2), contrast: float = 0.05, threshold: float = 0.02
) -> Tensor:
    """Edge strength: the mean ``g`` over scales of the Sobel gradient magnitude of the blurred, subsampled
    luminance (per input pixel, upsampled back), soft-thresholded and squashed as
    ``tanh(max(g − threshold, 0) / contrast)``: coarse scales widen a sharp edge's response, slow gradients
    stay below the threshold at every scale.

    Args:
        image: ``(B, 3, H, W)`` RGB in [0, 1].
        scales: subsampling factors (1 = full resolution); each level is Gaussian-blurred (σ = factor/2)
            before subsampling.
        contrast: gradient magnitude above the threshold (intensity per pixel, Sobel normalised) that maps to
            tanh(1) ≈ 0.76.
        threshold: gradient magnitude that counts as no edge (slow shading, background ramps).

    Returns:
        ``(B, 1, H, W)`` in [0, 1): ≈0 on flat regions, towards 1 on strong edges.

    Example:
        >>> step = torch.zeros(1, 3, 16, 16); step[..., 8:] = 1
        >>> edges = multiscale_edges(step)
        >>> bool(edges[0, 0, 8, 8] > 0.9), bool(edges[0, 0, 8, 1] < 0.01)
        (True, True)
    """
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be (B, 3, H, W) RGB in [0, 1], got {tuple(image.shape)}")
    if not scales or min(scales) < 1:
        raise ValueError(f"scales must be positive subsampling factors, got {tuple(scales)}")
    gray = rgb_to_grayscale(image)
    size = gray.shape[-2:]
    total = torch.zeros_like(gray)
    for factor in scales:
        level = gray
        if factor > 1:
            sigma = factor / 2
            kernel = 2 * round(2 * sigma) + 1
            level = gaussian_blur2d(gray, (kernel, kernel), (sigma, sigma), border_type="replicate")[
                ..., ::factor, ::factor
            ]
        magnitude = (sobel(level, eps=_EPS) - _EPS**0.5) / factor  # intensity change per input pixel; 0 if flat
        if factor > 1:
            magnitude = F.interpolate(magnitude, size=size, mode="bilinear", align_corners=False)
        total = total + magnitude
    return torch.tanh(torch.relu(total / len(scales) - threshold) / contrast)


class MultiScaleEdges(nn.Module):
    """Module form of :func:`multiscale_edges` with the call signature of :class:`~apd_lightning.nets.HED`.

    Shape:
        ``(B, 3, H, W)`` RGB in [0, 1] -> ``(B, 1, H, W)`` in [0, 1).
    """

    def __init__(self, scales: Sequence[int] = (1, 2), contrast: float = 0.05, threshold: float = 0.02) -> None:
        super().__init__()
        self.scales, self.contrast, self.threshold = tuple(scales), contrast, threshold

    def forward(self, image: Tensor) -> Tensor:
        return multiscale_edges(image, self.scales, self.contrast, self.threshold)
