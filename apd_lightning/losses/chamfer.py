"""The distance-transform (chamfer) loss of APDrawingGAN, differentiable in both directions.

For every dark (and every white) pixel of one drawing it sums how far the other drawing's nearest dark (white)
pixel is, in both directions. Deliberate differences from the original: the generated drawing's distance
transform is computed by a differentiable distance transform (our exact truncated EDT by default, Kornia's as an
option) instead of two frozen
auxiliary U-Nets, the line masks are the pixels' polarities instead of two frozen line-detector U-Nets, and the
second term (generated → real) is given a gradient through soft line masks, where the original's had none.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..ops.distance_transform import Backend, DistanceTransform, distance_transform


def soft_ink(drawing: Tensor, sharpness: float = 10.0) -> Tensor:
    """Soft dark-line map of a drawing: ≈1 on dark pixels (< 0), ≈0 on white ones.

    Args:
        drawing: ``(B, 1, H, W)`` in [-1, 1].
        sharpness: slope of the sigmoid around 0.

    Returns:
        ``(B, 1, H, W)`` in (0, 1).
    """
    return torch.sigmoid(-sharpness * drawing)


def _targets(weights: Tensor, floor: float) -> Tensor:
    # A soft distance transform treats a pixel of weight w as a target about -h·log(w) px further away, so the
    # tiny weights a sigmoid leaves on clearly white pixels would cap every distance at a few pixels. Weights
    # below `floor` are therefore set to exactly zero (not targets), the rest rescaled to (0, 1].
    return torch.relu(weights - floor) / (1 - floor)


def normalised_distance_maps(
    drawing: Tensor,
    sharpness: float = 10.0,
    transform: Callable[[Tensor], Tensor] = distance_transform,
    floor: float = 0.05,
) -> Tensor:
    """Differentiable counterpart of the ground-truth maps: distance to the nearest dark / white pixel.

    Each map is divided by its own (detached) maximum, like the ground truth.

    Args:
        drawing: ``(B, 1, H, W)`` in [-1, 1].
        sharpness: see :func:`soft_ink`.
        transform: distance transform taking ``(B, C, H, W)`` soft targets in [0, 1].
        floor: soft-target weights below this are not targets at all.

    Returns:
        ``(B, 2, H, W)`` in [0, 1]: channel 0 to dark pixels, channel 1 to white pixels.
    """
    ink = soft_ink(drawing, sharpness)
    dist = transform(torch.cat([_targets(ink, floor), _targets(1 - ink, floor)], dim=1))
    peak = dist.detach().amax(dim=(-2, -1), keepdim=True).clamp_min(1.0)
    return dist / peak


def chamfer_loss(
    fake: Tensor,
    real: Tensor,
    real_dt: Tensor,
    sharpness: float = 10.0,
    transform: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Both chamfer terms, each a sum over pixels divided by the batch size (as in the paper).

    Args:
        fake: ``(B, 1, H, W)`` generated drawing in [-1, 1].
        real: ``(B, 1, H, W)`` real drawing in [-1, 1].
        real_dt: ``(B, 2, H, W)`` ground-truth distance maps in [0, 1] (to the nearest dark / white pixel).
        sharpness: slope of the soft line masks of ``fake``.
        transform: differentiable distance transform for ``fake`` (default: ours, :func:`distance_transform`).

    Returns:
        ``(real_to_fake, fake_to_real)``: d_CM(real → fake) sums the fake's distance maps over the real's dark
        and white pixels; d_CM(fake → real) sums the real's maps over the fake's soft dark and white pixels.
    """
    if fake.shape != real.shape or fake.shape[1] != 1:
        raise ValueError(f"fake and real must both be (B, 1, H, W), got {tuple(fake.shape)} and {tuple(real.shape)}")
    if real_dt.shape != (fake.shape[0], 2, *fake.shape[-2:]):
        raise ValueError(f"real_dt must be (B, 2, H, W) matching fake, got {tuple(real_dt.shape)}")
    batch = fake.shape[0]
    real_dark = (real < 0).to(fake.dtype)
    real_masks = torch.cat([real_dark, 1 - real_dark], dim=1)
    fake_dt = normalised_distance_maps(fake, sharpness, transform or distance_transform)
    real_to_fake = (real_masks * fake_dt).sum() / batch
    fake_ink = soft_ink(fake, sharpness)
    fake_masks = torch.cat([fake_ink, 1 - fake_ink], dim=1)
    fake_to_real = (fake_masks * real_dt).sum() / batch
    return real_to_fake, fake_to_real


def generated_distance_transform(backend: Backend = "ours", radius: int | None = None) -> DistanceTransform:
    """The differentiable distance transform of the generated drawing; ``radius`` is the ``ours`` backend's
    truncation and is ignored with ``kornia`` (which has none), so a config can switch backends alone."""
    return DistanceTransform(backend, radius if backend == "ours" else None)


class ChamferLoss(nn.Module):
    """Module form of :func:`chamfer_loss`; returns the weighted sum of both terms.

    Args:
        weight_real_to_fake: λ₁ of d_CM(real → fake).
        weight_fake_to_real: λ₂ of d_CM(fake → real).
        sharpness: slope of the soft line masks of the generated drawing.
        dt_backend: its distance transform: ``ours`` (exact, truncated at ``dt_radius``) or ``kornia``.
        dt_radius: truncation radius of ``ours`` (default 32 px; ignored by ``kornia``).
    """

    def __init__(
        self,
        weight_real_to_fake: float = 0.1,
        weight_fake_to_real: float = 0.1,
        sharpness: float = 10.0,
        dt_backend: Backend = "ours",
        dt_radius: int | None = None,
    ) -> None:
        super().__init__()
        self.weights = (weight_real_to_fake, weight_fake_to_real)
        self.sharpness = sharpness
        self.transform = generated_distance_transform(dt_backend, dt_radius)

    def forward(self, fake: Tensor, real: Tensor, real_dt: Tensor) -> Tensor:
        a, b = chamfer_loss(fake, real, real_dt, self.sharpness, self.transform)
        return self.weights[0] * a + self.weights[1] * b
