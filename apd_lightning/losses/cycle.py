"""UPD's asymmetric cycle: a relaxed forward cycle (LPIPS between HED edge maps) and a strict backward L1.

The edge and LPIPS networks are passed in; :mod:`apd_lightning.nets.pretrained` builds them, frozen and offline.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Net = Callable[[Tensor], Tensor]


def edge_image(image: Tensor, edge_net: Net) -> Tensor:
    """E(z) = 2·HED((z + 1)/2) − 1 repeated to 3 channels: an edge map as an LPIPS input.

    Args:
        image: ``(B, 3, H, W)`` RGB in [-1, 1].
        edge_net: ``(B, 3, H, W)`` RGB in [0, 1] -> ``(B, 1, H, W)`` edge probability (e.g. HED).

    Returns:
        ``(B, 3, H, W)`` in [-1, 1].
    """
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be (B, 3, H, W) in [-1, 1], got {tuple(image.shape)}")
    return (2 * edge_net((image + 1) / 2) - 1).expand(-1, 3, -1, -1)


def relaxed_cycle_loss(
    reconstruction: Tensor, photo_edges: Tensor, edge_net: Net, perceptual: Callable[[Tensor, Tensor], Tensor]
) -> Tensor:
    """mean_b LPIPS(E(reconstruction), E(photo)): the relaxed forward cycle (also the truncation loss).

    Args:
        reconstruction: ``(B, 3, H, W)`` reconstructed photo F(G(x)) (or F(T(G(x)))) in [-1, 1].
        photo_edges: ``(B, 3, H, W)`` :func:`edge_image` of the photo (computed once per step, no gradient).
        edge_net: see :func:`edge_image`.
        perceptual: LPIPS taking two ``(B, 3, H, W)`` images in [-1, 1], returning ``(B, ...)`` distances.

    Returns:
        Scalar loss.
    """
    if reconstruction.shape != photo_edges.shape:
        raise ValueError(
            f"reconstruction {tuple(reconstruction.shape)} and photo_edges "
            f"{tuple(photo_edges.shape)} must have the same shape"
        )
    return perceptual(edge_image(reconstruction, edge_net), photo_edges).mean()


def strict_cycle_loss(reconstruction: Tensor, drawing: Tensor) -> Tensor:
    """mean |G(F(y), s) − y|: the strict backward cycle on ``(B, 1, H, W)`` drawings in [-1, 1]."""
    if reconstruction.shape != drawing.shape:
        raise ValueError(
            f"reconstruction {tuple(reconstruction.shape)} and drawing {tuple(drawing.shape)} must have the same shape"
        )
    return F.l1_loss(reconstruction, drawing)


class RelaxedCycleLoss(nn.Module):
    """Module form of :func:`relaxed_cycle_loss` holding the (frozen) edge and LPIPS networks."""

    def __init__(self, edge_net: nn.Module, perceptual: nn.Module) -> None:
        super().__init__()
        self.edge_net = edge_net
        self.perceptual = perceptual

    def forward(self, reconstruction: Tensor, photo: Tensor) -> Tensor:
        with torch.no_grad():
            photo_edges = edge_image(photo, self.edge_net)
        return relaxed_cycle_loss(reconstruction, photo_edges, self.edge_net, self.perceptual)
