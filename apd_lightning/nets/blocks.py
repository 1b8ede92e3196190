"""Shared building blocks: norm-layer aliases, weight init, residual block."""

from __future__ import annotations

import functools

from torch import nn

NORM_LAYERS: dict[str, type[nn.Module] | functools.partial] = {
    "batch": nn.BatchNorm2d,
    "sync_batch": nn.SyncBatchNorm,
    "instance": functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False),
    "none": nn.Identity,
}


def resolve_norm(norm: str | type[nn.Module]) -> type[nn.Module] | functools.partial:
    """Turn a norm alias (``batch``, ``sync_batch``, ``instance``, ``none``) or a class into a layer factory."""
    if isinstance(norm, str):
        if norm not in NORM_LAYERS:
            raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORM_LAYERS)}")
        return NORM_LAYERS[norm]
    return norm


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


class ResnetBlock(nn.Module):
    """Two reflect-padded 3×3 convs with norm and an identity skip (CycleGAN / pix2pix ResNet block).

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self, channels: int, norm_layer=nn.BatchNorm2d, dropout: float = 0.0) -> None:
        super().__init__()
        bias = uses_bias(norm_layer)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(channels),
            nn.ReLU(True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)
