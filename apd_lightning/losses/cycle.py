"""UPD's asymmetric cycle: a relaxed forward cycle (LPIPS between HED edge maps) and a strict backward L1.

The LPIPS network is torchmetrics' implementation (v0.1 ``net-lin`` with AlexNet), built offline by
:func:`build_lpips`: the AlexNet features come from a local torchvision checkpoint and the linear layers from
the file torchmetrics ships, so nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.functional.image.lpips import _NoTrainLpips

from ..weights import load_state_dict, resolve_weights

#: torchvision AlexNet ``features`` indices held by each slice of torchmetrics' LPIPS backbone.
_ALEXNET_SLICES = ((1, range(0, 2)), (2, range(2, 5)), (3, range(5, 8)), (4, range(8, 10)), (5, range(10, 12)))

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


def alexnet_to_lpips(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename a torchvision AlexNet state dict (``features.3.weight``) to LPIPS backbone keys
    (``net.slice2.3.weight``); the classifier is dropped."""
    slice_of = {i: n for n, indices in _ALEXNET_SLICES for i in indices}
    out = {}
    for key, value in state.items():
        if key.startswith("features."):
            index, rest = key.removeprefix("features.").split(".", 1)
            out[f"net.slice{slice_of[int(index)]}.{index}.{rest}"] = value
    return out


def build_lpips(
    alexnet_path: str | os.PathLike | None = None,
    lpips_path: str | os.PathLike | None = None,
    random_init: bool = False,
) -> nn.Module:
    """LPIPS v0.1 (AlexNet, ``net-lin``) from torchmetrics, frozen and always in eval mode, built offline.

    Args:
        alexnet_path: torchvision ImageNet AlexNet weights (``alexnet-owt-7be5be79.pth``); ``None`` looks in
            the torch hub cache.
        lpips_path: LPIPS v0.1 linear layers (``alex.pth``); ``None`` uses the copy shipped with torchmetrics.
        random_init: a randomly initialised AlexNet instead of ``alexnet_path`` (tests and CPU demos only; the
            linear layers are still loaded).

    Returns:
        A module ``(in0, in1) -> (B, 1, 1, 1)`` distances for ``(B, 3, H, W)`` images in [-1, 1].

    Raises:
        MissingWeightsError: a weights file is missing (the message names it and where it comes from).
    """
    backbone = None
    if not random_init:
        backbone = alexnet_to_lpips(load_state_dict(resolve_weights("alexnet", alexnet_path)))
    lin_weights = None if lpips_path is None else str(resolve_weights("lpips_alex", lpips_path))
    if lin_weights is not None:  # torchmetrics loads this file non-strictly: check its names and shapes first
        from ..convert import check_official, lpips_layout, read_weights

        problems = check_official(lpips_layout(), "lpips", read_weights(lin_weights), lin_weights)
        if problems:
            raise ValueError(f"{lin_weights} is not an LPIPS v0.1 AlexNet linear-layer file:\n" + "\n".join(problems))
    net = _NoTrainLpips(pretrained=True, net="alex", pnet_rand=True, model_path=lin_weights)
    if backbone is not None:
        missing, unexpected = net.load_state_dict(backbone, strict=False)
        if unexpected or [k for k in missing if k.startswith("net.")]:
            raise ValueError(f"{alexnet_path} is not a torchvision AlexNet state dict")
    net.requires_grad_(False)
    return net.eval()
