"""The pix2pix U-Net, used by APDrawingGAN for the global generator and the six part generators."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .blocks import contiguous_grad, init_weights, resolve_layer, uses_bias


class UNetBlock(nn.Module):
    """One U-Net level: down-conv, the inner levels, up-conv, and a skip concatenation (except outermost)."""

    def __init__(
        self,
        outer_channels: int,
        inner_channels: int,
        submodule: nn.Module | None,
        in_channels: int | None = None,
        outermost: bool = False,
        norm_layer: str | type[nn.Module] = "batch",
        dropout: bool = False,
        dropout_layer: str | type[nn.Module] = "fast",
    ) -> None:
        super().__init__()
        self.outermost = outermost
        innermost = submodule is None
        norm_layer = resolve_layer(norm_layer, "norm")
        bias = uses_bias(norm_layer)
        in_channels = outer_channels if in_channels is None else in_channels
        down: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2, True)]
        down.append(nn.Conv2d(in_channels, inner_channels, 4, stride=2, padding=1, bias=bias))
        if not (outermost or innermost):
            down.append(norm_layer(inner_channels))
        up_in = inner_channels if innermost else inner_channels * 2
        up: list[nn.Module] = [nn.ReLU(True)]
        if outermost:
            up += [nn.ConvTranspose2d(up_in, outer_channels, 4, stride=2, padding=1), nn.Tanh()]
        else:
            up += [
                nn.ConvTranspose2d(up_in, outer_channels, 4, stride=2, padding=1, bias=bias),
                norm_layer(outer_channels),
            ]
            if dropout:
                up.append(resolve_layer(dropout_layer, "dropout")(0.5))
        self.down = nn.Sequential(*down)
        self.submodule = submodule if submodule is not None else nn.Identity()
        self.up = nn.Sequential(*up)

    def forward(self, x: Tensor) -> Tensor:
        y = self.up(self.submodule(self.down(x)))
        return y if self.outermost else torch.cat([contiguous_grad(x), contiguous_grad(y)], dim=1)


class UNetGenerator(nn.Module):
    """pix2pix U-Net with ``num_downs`` stride-2 levels; channels ``base·2^i`` capped at ``base·max_multiplier``.

    APDrawingGAN uses it three ways: global (``num_downs=8`` at 512, cap 8, dropout in the 3 levels above the
    bottleneck), eyes/nose/mouth (3 levels, cap 4, no dropout) and hair/background (4 levels, cap 2, dropout in
    the level above the bottleneck).

    Args:
        in_channels: input channels (3 for a photo).
        out_channels: output channels (1 for a drawing).
        base_channels: channels of the first level (64 in the paper).
        num_downs: number of stride-2 levels; inputs must be divisible by ``2**num_downs``.
        max_multiplier: channel cap as a multiple of ``base_channels``.
        dropout_levels: how many levels directly above the innermost use dropout 0.5.
        norm_layer: norm class or alias (``batch``, ``instance``, ``sync_batch``, ``none``).
        dropout_layer: dropout class or alias (``fast``: ours; ``torch``: ``nn.Dropout``, the original's draws).

    Shape:
        ``(B, in_channels, H, W) -> (B, out_channels, H, W)`` in [-1, 1] (tanh).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 1,
        base_channels: int = 64,
        num_downs: int = 8,
        max_multiplier: int = 8,
        dropout_levels: int = 3,
        norm_layer: str | type[nn.Module] = "batch",
        dropout_layer: str | type[nn.Module] = "fast",
    ) -> None:
        super().__init__()
        if num_downs < 2:
            raise ValueError(f"num_downs must be >= 2, got {num_downs}")
        norm, drop = resolve_layer(norm_layer, "norm"), resolve_layer(dropout_layer, "dropout")
        self.num_downs = num_downs
        widths = [base_channels * min(2**i, max_multiplier) for i in range(num_downs)]
        block: nn.Module | None = None
        for level in range(num_downs - 1, 0, -1):  # innermost first
            dropout = block is not None and (num_downs - 1 - level) <= dropout_levels
            block = UNetBlock(widths[level - 1], widths[level], block, None, False, norm, dropout, drop)
        self.model = UNetBlock(out_channels, widths[0], block, in_channels=in_channels, outermost=True, norm_layer=norm)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        factor = 2**self.num_downs
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"input side must be divisible by {factor} for {self.num_downs} levels, got {tuple(x.shape)}"
            )
        return self.model(x)
