"""How often an independent judge reads a generated drawing as the style it was asked for."""

from __future__ import annotations

from torch import Tensor, nn

from ..nets.pretrained import freeze
from .mean import ImageMean


class JudgedStyleAccuracy(ImageMean):
    """Share of drawings that ``judge`` assigns to the requested style (1 = always; chance = 1 / styles).

    Args:
        judge: a frozen classifier ``(B, 1, H, W)`` drawings in [-1, 1] -> ``(B, num_styles)`` logits, trained
            without the generator (e.g. :func:`~apd_lightning.nets.style_judge.train_style_judge` on true
            drawings), never the GAN's own discriminator.
    """

    higher_is_better = True

    def __init__(self, judge: nn.Module, **kwargs) -> None:
        super().__init__(**kwargs)
        self.net = freeze(judge)

    def update(self, drawing: Tensor, style: Tensor | int) -> None:
        """``drawing``: ``(B, 1, H, W)`` in [-1, 1]; ``style``: the requested 0-based style, ``(B,)`` or one int."""
        self._add((self.net(drawing).argmax(1) == style).float())
