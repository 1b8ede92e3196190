"""PatchGAN discriminators (pix2pix ``basic``: 70×70 receptive field with 3 layers)."""

from __future__ import annotations

from torch import Tensor, nn

from .blocks import init_weights, resolve_layer, uses_bias


class PatchDiscriminator(nn.Module):
    """Convolutional PatchGAN returning one real/fake logit per patch (no sigmoid: losses take logits).

    Args:
        in_channels: input channels (4 for APDrawingGAN's conditional photo+drawing input).
        base_channels: channels of the first conv (64 in the paper).
        num_layers: stride-2 layers (3 gives the 70×70 PatchGAN; inputs need a side >= 2**num_layers * 3).
        norm_layer: norm class or alias.

    Shape:
        ``(B, in_channels, H, W) -> (B, 1, H', W')``; at 512 with 3 layers, ``H' = W' = 62``.
    """

    def __init__(
        self,
        in_channels: int = 4,
        base_channels: int = 64,
        num_layers: int = 3,
        norm_layer: str | type[nn.Module] = "batch",
    ) -> None:
        super().__init__()
        norm = resolve_layer(norm_layer, "norm")
        bias = uses_bias(norm)
        self.num_layers = num_layers
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        channels = base_channels
        for n in range(1, num_layers + 1):
            out = base_channels * min(2**n, 8)
            stride = 2 if n < num_layers else 1
            layers += [nn.Conv2d(channels, out, 4, stride, 1, bias=bias), norm(out), nn.LeakyReLU(0.2, True)]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def min_input_size(self) -> int:
        """Smallest input side that still yields a 1×1 patch map."""
        size = 1
        size += 2  # two stride-1 4×4 convs with padding 1 each shrink by 1
        for _ in range(self.num_layers):
            size *= 2
        return size

    def forward(self, x: Tensor) -> Tensor:
        if min(x.shape[-2:]) < self.min_input_size():
            raise ValueError(
                f"input {tuple(x.shape)} is too small for a {self.num_layers}-layer PatchGAN "
                f"(needs a side >= {self.min_input_size()}); lower num_layers"
            )
        return self.model(x)
