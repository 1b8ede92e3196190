"""LPIPS (AlexNet, v0.1 linear layers) between paired drawings, built offline from torchmetrics' network."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn
from torchmetrics.functional.image.lpips import _NoTrainLpips

from ..weights import load_state_dict, resolve_weights
from .inputs import drawing_to_unit_rgb, full_precision
from .mean import FrozenNetMean


def build_lpips_net(alexnet_state: Mapping[str, Tensor]) -> nn.Module:
    """torchmetrics' LPIPS network with the given torchvision AlexNet weights; never downloads.

    torchmetrics would fetch the AlexNet through torchvision; here its backbone is built empty and filled
    from ``alexnet_state`` (torchvision ``features.*`` keys; the classifier is not needed), while the
    LPIPS v0.1 linear layers are the ones shipped inside the torchmetrics package.

    Args:
        alexnet_state: a torchvision AlexNet state dict (``alexnet-owt-7be5be79.pth``).

    Returns:
        A frozen, always-eval module ``(img1, img2, normalize=True) -> (B, 1, 1, 1)`` distances.
    """
    net = _NoTrainLpips(net="alex", pretrained=True, pnet_rand=True)
    backbone = {}
    for name, _ in net.net.named_parameters():  # "slice2.3.weight" holds torchvision's "features.3.weight"
        key = "features." + name.split(".", 1)[1]
        if key not in alexnet_state:
            raise ValueError(f"not a torchvision AlexNet state dict: '{key}' is missing")
        backbone[name] = alexnet_state[key]
    net.net.load_state_dict(backbone)
    return net


def load_lpips_net(alexnet_path: str | os.PathLike | None = None) -> nn.Module:
    """:func:`build_lpips_net` with the AlexNet weights from ``alexnet_path`` or the torch hub cache.

    Raises:
        MissingWeightsError: ``alexnet-owt-7be5be79.pth`` is not there; the message says where to get it.
    """
    return build_lpips_net(load_state_dict(resolve_weights("alexnet", alexnet_path)))


class DrawingLPIPS(FrozenNetMean):
    """Mean LPIPS between generated and target drawings of the same photos; lower is better.

    Drawings go in as produced, ``(B, 1, H, W)`` in [-1, 1], converted once by :func:`drawing_to_unit_rgb`.
    The per-pair distances are summed in float64 (states reduce by sum across processes).

    Args:
        net: the LPIPS network ``(img1, img2, normalize=True) -> (B, 1, 1, 1)``; ``None`` builds it with
            :func:`load_lpips_net` from ``alexnet_path``.
        alexnet_path: the torchvision AlexNet weights; ``None`` looks in the torch hub cache.
        **kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = False

    def __init__(
        self, net: nn.Module | None = None, alexnet_path: str | os.PathLike | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.net = net if net is not None else load_lpips_net(alexnet_path)

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add pairs: ``pred`` and ``target`` both ``(B, 1, H, W)`` in [-1, 1]."""
        if pred.shape != target.shape:
            raise ValueError(
                f"pred and target must have the same shape, got {tuple(pred.shape)}, {tuple(target.shape)}"
            )
        pred, target = drawing_to_unit_rgb(pred), drawing_to_unit_rgb(target)
        with full_precision(pred.device):
            distances = self.net(pred, target, normalize=True).reshape(-1)
        self._add(distances)
