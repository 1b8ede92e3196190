"""The FID Inception-v3 (the TensorFlow 2015-12-05 graph as ported to PyTorch) as a pool3 feature extractor.

FID and KID are only comparable across papers with these exact weights and pooling quirks, not with
torchvision's ImageNet Inception: three pooling branches differ (average pools that exclude the padding,
and a max pool in the last block) and the classifier has 1008 outputs. The blocks here subclass
torchvision's and change only that pooling, so the state-dict keys are torchvision's: the public
``pt_inception-2015-12-05-6726825d.pth`` loads as is.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor
from torchvision.models.inception import (
    BasicConv2d,
    Inception3,
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)


def _pool_3x3(x: Tensor, kind: Literal["avg", "max"]) -> Tensor:
    if kind == "max":
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


# torchvision computes the pooled branch with count_include_pad=True; each block below recomputes only that
# branch (a 1x1 conv, a few % of the block's cost) and keeps torchvision's code for the others.
class _FIDInceptionA(InceptionA):
    def _forward(self, x: Tensor) -> list[Tensor]:
        outputs = super()._forward(x)
        outputs[-1] = self.branch_pool(_pool_3x3(x, "avg"))
        return outputs


class _FIDInceptionC(InceptionC):
    def _forward(self, x: Tensor) -> list[Tensor]:
        outputs = super()._forward(x)
        outputs[-1] = self.branch_pool(_pool_3x3(x, "avg"))
        return outputs


class _FIDInceptionE(InceptionE):
    def __init__(self, in_channels: int, pool: Literal["avg", "max"] = "avg") -> None:
        super().__init__(in_channels)
        self.pool = pool

    def _forward(self, x: Tensor) -> list[Tensor]:
        outputs = super()._forward(x)
        outputs[-1] = self.branch_pool(_pool_3x3(x, self.pool))
        return outputs


_TRUNK = (
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "maxpool1",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "maxpool2",
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
    "Mixed_7a",
    "Mixed_7b",
    "Mixed_7c",
    "avgpool",
)


class FIDInceptionV3(Inception3):
    """2048-d pool3 features of the FID Inception-v3.

    Input images are bilinearly resized to 299² (no antialiasing, as the reference PyTorch FID code does)
    and scaled to [-1, 1]. Random weights until a state dict is loaded; the metrics use it frozen, with its
    weights, from :func:`~apd_lightning.nets.pretrained.load_inception_features`.

    Shape:
        - images: ``(B, 3, H, W)`` float in [0, 1].
        - output: ``(B, 2048)``.
    """

    num_features = 2048

    def __init__(self) -> None:
        blocks = [BasicConv2d, _FIDInceptionA, InceptionB, _FIDInceptionC, InceptionD, _FIDInceptionE, InceptionAux]
        super().__init__(
            num_classes=1008, aux_logits=False, transform_input=False, inception_blocks=blocks, init_weights=False
        )
        self.Mixed_7c = _FIDInceptionE(2048, pool="max")

    def forward(self, images: Tensor) -> Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be (B, 3, H, W) in [0, 1], got {tuple(images.shape)}")
        x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        for name in _TRUNK:
            x = getattr(self, name)(x)
        return x.flatten(1)
