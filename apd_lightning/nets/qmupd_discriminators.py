"""QMUPD's five discriminators: the drawing D with a patch head and a style-class head, the photo D and three
local Ds that see one facial region (nose, eyes, lips) of the full drawing plus its mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from ..ops.face_parts import REGIONS
from .blocks import init_weights, resolve_layer, uses_bias
from .discriminators import PatchDiscriminator


def masked_region(drawing: Tensor, mask: Tensor) -> Tensor:
    """The local discriminators' input Mk(z, m): the drawing painted white outside the region, plus the mask.

    Args:
        drawing: ``(B, 1, H, W)`` in [-1, 1].
        mask: ``(B, 1, H, W)`` in [0, 1] (soft edges allowed).

    Returns:
        ``(B, 2, H, W)``: ``((z + 1)/2 · m + (1 − m))·2 − 1`` and ``m``.
    """
    if drawing.shape[1] != 1 or mask.shape != drawing.shape:
        raise ValueError(
            f"drawing and mask must both be (B, 1, H, W), got {tuple(drawing.shape)} and {tuple(mask.shape)}"
        )
    inked = ((drawing + 1) / 2 * mask + (1 - mask)) * 2 - 1
    return torch.cat([inked, mask], dim=1)


class StyleDiscriminator(nn.Module):
    """The drawing discriminator (reference ``basic_cls``): a shared trunk, a PatchGAN head and a style head.

    Trunk ``model0``: three stride-2 conv4 (64, 128, 256). Patch head ``model1``: conv4 256→512, conv4 512→1
    (62×62 logits at 512). Style head ``model2``: two stride-2 conv4 to 512 channels at ``image_size / 32``,
    then one conv to ``num_styles`` logits. The reference's last conv has a fixed 16×16 kernel, so it only
    works at 512. Deliberate change: with ``class_head="conv"`` the kernel equals the feature size
    ``image_size / 32`` (identical to the reference at 512, where the released weights load as they are);
    ``class_head="pool"`` averages the features and applies a 1×1 conv, working at any input size.

    Args:
        image_size: the input side (a multiple of 32 with ``class_head="conv"``).
        in_channels: input channels (1 for a drawing).
        base_channels: first-layer width (64).
        num_styles: style classes (3).
        class_head: ``conv`` (kernel = feature size) or ``pool`` (global average pool + 1×1 conv).
        norm_layer: norm class or alias (``instance`` in the reference).
        style_patches: the patch head gives one real/fake map per style (``num_styles`` channels), so that a
            drawing counts as real only as a drawing of its style (a multi-task conditional discriminator, as
            StarGAN v2's; not in the papers). ``False`` (the reference): one map for all styles.

    Shape:
        ``(B, in_channels, S, S) -> (patch (B, P, S/8 − 2, S/8 − 2), style logits (B, num_styles))`` with
        ``P = num_styles`` when ``style_patches`` else 1.
    """

    def __init__(
        self,
        image_size: int = 512,
        in_channels: int = 1,
        base_channels: int = 64,
        num_styles: int = 3,
        class_head: Literal["conv", "pool"] = "conv",
        norm_layer: str | type[nn.Module] = "instance",
        style_patches: bool = False,
    ) -> None:
        super().__init__()
        if image_size % 32 or image_size < 64:
            raise ValueError(f"image_size must be a multiple of 32 and >= 64, got {image_size}")
        if class_head not in ("conv", "pool"):
            raise ValueError(f"class_head must be 'conv' or 'pool', got {class_head!r}")
        norm = resolve_layer(norm_layer, "norm")
        bias = uses_bias(norm)
        self.image_size = image_size
        self.class_head = class_head
        self.style_patches = style_patches
        b = base_channels

        def conv(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 4, stride, 1, bias=bias), norm(cout), nn.LeakyReLU(0.2, True)]

        self.model0 = nn.Sequential(
            nn.Conv2d(in_channels, b, 4, 2, 1), nn.LeakyReLU(0.2, True), *conv(b, 2 * b, 2), *conv(2 * b, 4 * b, 2)
        )
        self.model1 = nn.Sequential(
            *conv(4 * b, 8 * b, 1), nn.Conv2d(8 * b, num_styles if style_patches else 1, 4, 1, 1)
        )
        if class_head == "conv":
            last = nn.Conv2d(8 * b, num_styles, image_size // 32)
        else:
            last = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8 * b, num_styles, 1))
        self.model2 = nn.Sequential(*conv(4 * b, 8 * b, 2), *conv(8 * b, 8 * b, 2), last)
        init_weights(self)

    def forward(self, drawing: Tensor) -> tuple[Tensor, Tensor]:
        if self.class_head == "conv" and drawing.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"drawing must be {self.image_size}×{self.image_size} for the conv style head "
                f"(set image_size or use class_head='pool'), got {tuple(drawing.shape)}"
            )
        features = self.model0(drawing)
        return self.model1(features), self.model2(features).flatten(1)


@dataclass
class DrawingJudgement:
    """What the discriminators say about a batch of drawings (all raw logits)."""

    patch: Tensor
    style: Tensor
    local: dict[str, Tensor]


class QMUPDDiscriminators(nn.Module):
    """All five discriminators of UPD / QMUPD, trained by one optimizer.

    Attributes:
        drawing: :class:`StyleDiscriminator` on drawings (reference ``netD_A``).
        photo: 70×70 PatchGAN on photos (``netD_B``).
        local: PatchGANs on :func:`masked_region` inputs, keyed by :data:`REGIONS` (``netD_ln``, ``netD_le``,
            ``netD_ll``).

    Args:
        image_size: training side (the conv style head is sized for it).
        base_channels: first-layer width of every discriminator (64).
        num_layers: stride-2 layers of the photo and local PatchGANs (3).
        num_styles: style classes (3).
        class_head: see :class:`StyleDiscriminator`.
        norm_layer: norm class or alias (``instance``).
        style_patches: see :class:`StyleDiscriminator` (``False`` in the papers).
    """

    def __init__(
        self,
        image_size: int = 512,
        base_channels: int = 64,
        num_layers: int = 3,
        num_styles: int = 3,
        class_head: Literal["conv", "pool"] = "conv",
        norm_layer: str | type[nn.Module] = "instance",
        style_patches: bool = False,
    ) -> None:
        super().__init__()
        self.drawing = StyleDiscriminator(
            image_size, 1, base_channels, num_styles, class_head, norm_layer, style_patches
        )
        self.photo = PatchDiscriminator(3, base_channels, num_layers, norm_layer)
        self.local = nn.ModuleDict(
            {region: PatchDiscriminator(2, base_channels, num_layers, norm_layer) for region in REGIONS}
        )

    def judge_drawing(self, drawing: Tensor, masks: Tensor, style: Tensor | None = None) -> DrawingJudgement:
        """Patch and style logits of the drawing D and the local Ds' logits on the regions of ``masks``.

        Args:
            drawing: ``(B, 1, H, W)`` in [-1, 1].
            masks: ``(B, 3, H, W)`` in [0, 1], channels in :data:`REGIONS` order.
            style: ``(B, num_styles)`` style vectors of the drawings; needed with ``style_patches``, where
                the patch logits are the map of each drawing's style (its largest component).
        """
        if masks.shape[1] != len(REGIONS):
            raise ValueError(
                f"masks must be (B, {len(REGIONS)}, H, W) ({', '.join(REGIONS)}), got {tuple(masks.shape)}"
            )
        patch, style_logits = self.drawing(drawing)
        if self.drawing.style_patches:
            if style is None or style.shape != (drawing.shape[0], patch.shape[1]):
                raise ValueError(
                    f"style_patches needs the drawings' (B, {patch.shape[1]}) styles, got "
                    f"{None if style is None else tuple(style.shape)}"
                )
            patch = patch.gather(1, style.argmax(1)[:, None, None, None].expand(-1, 1, *patch.shape[-2:]))
        local = {
            region: self.local[region](masked_region(drawing, masks[:, i : i + 1])) for i, region in enumerate(REGIONS)
        }
        return DrawingJudgement(patch, style_logits, local)

    def judge_photo(self, photo: Tensor) -> Tensor:
        """Patch logits of the photo D for ``(B, 3, H, W)`` photos in [-1, 1]."""
        return self.photo(photo)
