"""ResNet generators of UPD / QMUPD: the style-conditioned photo→drawing G and the CycleGAN drawing→photo F.

The submodules are named ``model0`` / ``model`` and laid out with the reference's ``nn.Sequential`` indices,
so the released ``200_net_G_A.pth`` / ``200_net_G_B.pth`` state dicts load as they are (``strict=True``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from .blocks import ResnetBlock, conv_layers, init_weights


def _encoder(in_channels: int, base_channels: int, norm, pad, bias: bool) -> list[nn.Module]:
    """Reflect-pad 3, conv7, then two stride-2 conv3 (channels ×2 each), each with norm and ReLU."""
    layers: list[nn.Module] = [
        pad(3),
        nn.Conv2d(in_channels, base_channels, 7, bias=bias),
        norm(base_channels),
        nn.ReLU(True),
    ]
    for i in range(2):
        channels = base_channels * 2**i
        layers += [
            nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1, bias=bias),
            norm(channels * 2),
            nn.ReLU(True),
        ]
    return layers


Upsampling = Literal["transposed", "resize"]


def _upsample(channels: int, bias: bool, upsampling: Upsampling) -> nn.Module:
    """×2 upsampling halving the channels: a stride-2 transposed conv3 (the reference) or, ``resize``, nearest
    ×2 then conv3 (free of the transposed conv's checkerboard pattern; Odena et al., Distill 2016)."""
    if upsampling == "transposed":
        return nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1, output_padding=1, bias=bias)
    if upsampling == "resize":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(channels, channels // 2, 3, padding=1, bias=bias)
        )
    raise ValueError(f"upsampling must be 'transposed' or 'resize', got {upsampling!r}")


def _decoder(
    base_channels: int, out_channels: int, norm, pad, bias: bool, upsampling: Upsampling = "transposed"
) -> list[nn.Module]:
    """Two ×2 upsamplings (channels ÷2 each) with norm and ReLU, reflect-pad 3, conv7, tanh."""
    layers: list[nn.Module] = []
    for i in (2, 1):
        channels = base_channels * 2**i
        layers += [_upsample(channels, bias, upsampling), norm(channels // 2), nn.ReLU(True)]
    layers += [pad(3), nn.Conv2d(base_channels, out_channels, 7), nn.Tanh()]
    return layers


def _check_input(x: Tensor, channels: int, what: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels or x.shape[-1] % 4 or x.shape[-2] % 4:
        raise ValueError(f"{what} must be (B, {channels}, H, W) with H and W divisible by 4, got {tuple(x.shape)}")


class ResnetGenerator(nn.Module):
    """The CycleGAN ResNet generator (QMUPD's reverse generator F: drawing → photo).

    Args:
        in_channels: input channels (1 for a drawing).
        out_channels: output channels (3 for a photo).
        base_channels: width of the first conv (64); the residual blocks run at ``4 * base_channels``.
        num_blocks: residual blocks at 1/4 resolution (9).
        norm_layer: norm class or alias (``instance`` in the reference).
        pad_layer: padding class or alias (``reflect``: ours, keeps bf16 under autocast; ``torch``).
        upsampling: ``transposed`` (the reference) or ``resize`` (nearest ×2 + conv3, no checkerboard; other
            state-dict keys, so released weights need ``transposed``).

    Shape:
        ``(B, in_channels, H, W) -> (B, out_channels, H, W)`` in [-1, 1], H and W divisible by 4.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        base_channels: int = 64,
        num_blocks: int = 9,
        norm_layer: str | type[nn.Module] = "instance",
        pad_layer: str | type[nn.Module] = "reflect",
        upsampling: Upsampling = "transposed",
    ) -> None:
        super().__init__()
        norm, pad, bias = conv_layers(norm_layer, pad_layer)
        self.in_channels = in_channels
        blocks = [ResnetBlock(base_channels * 4, norm, pad_layer=pad) for _ in range(num_blocks)]
        self.model = nn.Sequential(
            *_encoder(in_channels, base_channels, norm, pad, bias),
            *blocks,
            *_decoder(base_channels, out_channels, norm, pad, bias, upsampling),
        )
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, "input")
        return self.model(x)


class StyleGenerator(nn.Module):
    """UPD / QMUPD's style-controlled generator G (the reference's ``resnet_style2_9blocks``).

    An encoder to 1/4 resolution (``model0``); then (``model``) the style vector, broadcast to an
    ``(H/4, W/4)`` map, is concatenated with the features and fused by a conv3, followed by the residual
    blocks and the decoder. The style map always follows the input size, so any side divisible by 4 works.

    Args:
        in_channels: input channels (3 for a photo).
        out_channels: output channels (1 for a drawing).
        base_channels: width of the first conv (64); the residual blocks run at ``4 * base_channels``.
        num_blocks: residual blocks after the style injection (9).
        style_dim: length of the style vector (3 styles).
        norm_layer: norm class or alias (``instance`` in the reference).
        pad_layer: padding class or alias (``reflect``: ours, keeps bf16 under autocast; ``torch``).
        style_modulation: also scale and shift the fused features per channel by a linear function of the
            style, after the fusion's norm (``h·(1 + γ(s)) + β(s)``, zero-initialised). Off in the reference:
            its instance norm removes the per-channel constant that the concatenated style map adds, so the
            style reaches G mostly through border effects; on, it reaches every position. Adds the
            ``style_modulation`` keys, so the released weights load only with it off.
        decoder_modulation: the same per-channel scale and shift by the style after the norm of each of
            the two upsampling layers, where line widths and textures are drawn (zero-initialised; off in the
            reference; adds the ``decoder_modulation`` keys).
        upsampling: ``transposed`` (the reference) or ``resize`` (see :class:`ResnetGenerator`).

    Shape:
        photo ``(B, in_channels, H, W)`` in [-1, 1], style ``(B, style_dim)`` (soft or one-hot, any real
        values) -> ``(B, out_channels, H, W)`` in [-1, 1].

    Example:
        >>> g = StyleGenerator(base_channels=8, num_blocks=1)
        >>> g(torch.zeros(2, 3, 64, 64), torch.eye(3)[:2]).shape
        torch.Size([2, 1, 64, 64])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 1,
        base_channels: int = 64,
        num_blocks: int = 9,
        style_dim: int = 3,
        norm_layer: str | type[nn.Module] = "instance",
        pad_layer: str | type[nn.Module] = "reflect",
        style_modulation: bool = False,
        upsampling: Upsampling = "transposed",
        decoder_modulation: bool = False,
    ) -> None:
        super().__init__()
        norm, pad, bias = conv_layers(norm_layer, pad_layer)
        self.in_channels = in_channels
        self.style_dim = style_dim
        self.num_blocks = num_blocks
        width = base_channels * 4
        self.model0 = nn.Sequential(*_encoder(in_channels, base_channels, norm, pad, bias))
        fuse = [nn.Conv2d(width + style_dim, width, 3, padding=1, bias=bias), norm(width), nn.ReLU(True)]
        blocks = [ResnetBlock(width, norm, pad_layer=pad) for _ in range(num_blocks)]
        self.model = nn.Sequential(*fuse, *blocks, *_decoder(base_channels, out_channels, norm, pad, bias, upsampling))
        init_weights(self)
        self.style_modulation = _style_linear(style_dim, width) if style_modulation else None
        self.decoder_modulation = None
        if decoder_modulation:  # after the norm of each upsampling layer: 2b, then b channels
            self.decoder_modulation = nn.ModuleList(_style_linear(style_dim, base_channels * 2**i) for i in (1, 0))

    def forward(self, photo: Tensor, style: Tensor) -> Tensor:
        _check_input(photo, self.in_channels, "photo")
        if style.shape != (photo.shape[0], self.style_dim):
            raise ValueError(f"style must be (B, {self.style_dim}) with B={photo.shape[0]}, got {tuple(style.shape)}")
        features = self.model0(photo)
        style = style.to(features.dtype)
        fused = torch.cat([features, style[:, :, None, None].expand(-1, -1, *features.shape[-2:])], dim=1)
        x = self.model[:2](fused)  # fusion conv and norm
        if self.style_modulation is not None:
            x = _modulate(x, self.style_modulation(style))
        decoder = 3 + self.num_blocks  # after the fusion's ReLU and the residual blocks
        x = self.model[2:decoder](x)
        for i in range(2):  # upsample, norm, [modulate,] ReLU
            up, norm, relu = self.model[decoder + 3 * i : decoder + 3 * i + 3]
            x = norm(up(x))
            if self.decoder_modulation is not None:
                x = _modulate(x, self.decoder_modulation[i](style))
            x = relu(x)
        return self.model[decoder + 6 :](x)


def _style_linear(style_dim: int, channels: int) -> nn.Linear:
    """A zero-initialised ``style_dim → 2·channels`` linear map (scale and shift): it starts as the identity."""
    linear = nn.Linear(style_dim, 2 * channels)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


def _modulate(x: Tensor, scale_shift: Tensor) -> Tensor:
    """``x·(1 + γ) + β`` per channel, with ``(γ, β)`` the two halves of ``(B, 2C)`` ``scale_shift``."""
    scale, shift = scale_shift[:, :, None, None].chunk(2, dim=1)
    return x * (1 + scale) + shift
