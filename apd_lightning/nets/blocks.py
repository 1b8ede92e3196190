"""Shared building blocks: the layers the nets take as arguments and their aliases, weight init, residual block."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class InstanceNorm2d(nn.InstanceNorm2d):
    """``nn.InstanceNorm2d`` that stays fast on channels-last input.

    ``F.instance_norm`` reshapes its input to ``(1, B·C, H, W)``, which copies a channels-last tensor and
    returns a channels-first one (≈ 4× slower at 256×128×128 on CPU, and every following convolution converts
    back). For a batch of one, instance statistics are the batch statistics, so this calls the batch-norm kernel
    (which handles channels-last natively) with the same result; other cases use ``nn.InstanceNorm2d``. This
    also avoids a torch 2.14 bug: ``instance_norm`` returns a wrong input gradient at batch 1 when the incoming
    gradient is channels-last (tested in ``tests/nets/test_blocks.py``).

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``, same dtype and (at B = 1) memory format.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4 and x.shape[0] == 1 and not self.track_running_stats:
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
        return super().forward(x)


def uses_bias(norm_layer) -> bool:
    """Convolutions carry a bias unless followed by an affine BatchNorm (the pix2pix convention)."""
    base = norm_layer.func if isinstance(norm_layer, functools.partial) else norm_layer
    return not (isinstance(base, type) and issubclass(base, nn.modules.batchnorm._BatchNorm))


def init_weights(module: nn.Module, std: float = 0.02) -> nn.Module:
    """The originals' init: conv/linear weights ~ N(0, std), biases 0, norm weights ~ N(1, std)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


class Dropout(nn.Dropout):
    """Element-wise dropout with a cheaper mask than ``nn.Dropout`` and the same distribution.

    At p = 0.5 (the only rate the papers use) the keep mask is a uniform random bit per element
    (``bool.random_()``), several times faster on CPU than ``bernoulli_`` (35 ms instead of 200 ms for a
    64×512×512 map); other rates compare uniform floats. Kept values are scaled by ``1 / (1 - p)``; eval mode is
    the identity. The masks differ from ``nn.Dropout``'s for the same seed: nets built with
    ``dropout_layer="torch"`` (``nn.Dropout``) draw them as the original code did (same-seed parity).

    Shape:
        any; the output has the input's shape, dtype and memory format.
    """

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1 or self.inplace:
            return super().forward(x)
        if self.p == 0.5:
            keep = torch.empty_like(x, dtype=torch.bool).random_()
        else:
            keep = torch.rand_like(x) >= self.p
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))


class ReflectionPad2d(nn.ReflectionPad2d):
    """``nn.ReflectionPad2d`` that keeps its input's dtype under autocast.

    Autocast runs reflection padding in float32, so under ``bf16-mixed`` every padded convolution would convert
    its activations to float32 and back (two extra passes over a 64×512×512 map in APDrawingGAN's fusion net).
    Padding only moves values, so the lower precision loses nothing.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type in ("cpu", "cuda") and torch.is_autocast_enabled(x.device.type):
            with torch.autocast(x.device.type, enabled=False):
                return super().forward(x)
        return super().forward(x)


Layer = Callable[..., nn.Module]

#: String aliases of the layers the nets take as arguments, by kind. ``instance`` is :class:`InstanceNorm2d` as
#: the references use it (no affine parameters, no running statistics); the ``torch`` entries are torch's own
#: classes (``nn.Dropout`` draws the original code's masks for a seed; ``nn.ReflectionPad2d`` runs in float32
#: under autocast).
LAYER_ALIASES: dict[str, dict[str, Layer]] = {
    "norm": {
        "batch": nn.BatchNorm2d,
        "sync_batch": nn.SyncBatchNorm,
        "instance": functools.partial(InstanceNorm2d, affine=False, track_running_stats=False),
        "none": nn.Identity,
    },
    "dropout": {"fast": Dropout, "torch": nn.Dropout},
    "pad": {"reflect": ReflectionPad2d, "torch": nn.ReflectionPad2d},
}


def resolve_layer(layer: str | Layer, kind: Literal["norm", "dropout", "pad"] = "norm") -> Layer:
    """The layer class (or factory) named by an alias of ``kind`` in :data:`LAYER_ALIASES`; a class or factory
    passes unchanged. The one place the nets turn ``norm_layer``, ``dropout_layer`` and ``pad_layer`` into layers.

    Raises:
        ValueError: an unknown alias (the message lists the known ones).
    """
    if not isinstance(layer, str):
        return layer
    aliases = LAYER_ALIASES[kind]
    if layer not in aliases:
        raise ValueError(f"unknown {kind} layer {layer!r}; choose one of {sorted(aliases)} or pass a class")
    return aliases[layer]


def conv_layers(norm_layer: str | Layer, pad_layer: str | Layer = "reflect") -> tuple[Layer, Layer, bool]:
    """``(norm, pad, bias)`` of a conv net: the resolved norm and padding layers, and whether its convolutions
    carry a bias (see :func:`uses_bias`)."""
    norm = resolve_layer(norm_layer, "norm")
    return norm, resolve_layer(pad_layer, "pad"), uses_bias(norm)


def resolve_norm(norm: str | Layer) -> Layer:
    """:func:`resolve_layer` for norm layers (``batch``, ``sync_batch``, ``instance``, ``none``)."""
    return resolve_layer(norm, "norm")


class _ContiguousGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
        return x.as_strided(x.shape, x.stride())  # (view_as would restride a size-1 batch dim: cat then picks NCHW)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad.contiguous(memory_format=torch.channels_last if ctx.channels_last else torch.contiguous_format)


def contiguous_grad(x: Tensor) -> Tensor:
    """Identity whose backward makes the incoming gradient dense in ``x``'s memory format.

    The gradient of a channel concatenation reaches each input as a strided slice; norm-layer backward
    kernels on such a slice run about 10× slower on CPU than on a dense copy (which costs ~1 ms).
    """
    return _ContiguousGrad.apply(x) if x.requires_grad else x


class ResnetBlock(nn.Module):
    """Two reflect-padded 3×3 convs with norm and an identity skip (CycleGAN / pix2pix ResNet block).

    Args:
        channels: input and output channels.
        norm_layer: norm class or alias (see :func:`resolve_layer`).
        dropout: dropout rate between the convs (0: none).
        pad_layer: padding class or alias.
        dropout_layer: dropout class or alias.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(
        self,
        channels: int,
        norm_layer: str | type[nn.Module] = "batch",
        dropout: float = 0.0,
        pad_layer: str | type[nn.Module] = "reflect",
        dropout_layer: str | type[nn.Module] = "fast",
    ) -> None:
        super().__init__()
        norm, pad, bias = conv_layers(norm_layer, pad_layer)
        layers: list[nn.Module] = [pad(1), nn.Conv2d(channels, channels, 3, bias=bias), norm(channels), nn.ReLU(True)]
        if dropout > 0:
            layers.append(resolve_layer(dropout_layer, "dropout")(dropout))
        layers += [pad(1), nn.Conv2d(channels, channels, 3, bias=bias), norm(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)
