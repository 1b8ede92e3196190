"""APDrawingGAN's hierarchical generator and its set of global + local discriminators."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..ops.face_parts import (
    BOX_PARTS,
    FacePart,
    boxes_mask,
    composite_parts,
    crop_parts,
    part_box_size,
    part_boxes,
    region_image,
)
from .blocks import ResnetBlock, conv_layers, init_weights
from .discriminators import PatchDiscriminator
from .unet import UNetGenerator


class FusionNet(nn.Module):
    """Fuses the global drawing and the composited part drawing (the paper's ``Combiner``).

    Args:
        channels: width (64 in the paper).
        num_blocks: residual blocks (2).
        norm_layer: norm class or alias.
        dropout: dropout 0.5 in the residual blocks, as in the paper.
        pad_layer: padding class or alias (``reflect``: ours, keeps bf16 under autocast; ``torch``).
        dropout_layer: dropout class or alias (``fast``: ours; ``torch``: the original's draws).

    Shape:
        ``(B, 2, H, W) -> (B, 1, H, W)`` in [-1, 1].
    """

    def __init__(
        self,
        channels: int = 64,
        num_blocks: int = 2,
        norm_layer: str | type[nn.Module] = "batch",
        dropout: bool = True,
        pad_layer: str | type[nn.Module] = "reflect",
        dropout_layer: str | type[nn.Module] = "fast",
    ) -> None:
        super().__init__()
        norm, pad, bias = conv_layers(norm_layer, pad_layer)
        layers: list[nn.Module] = [pad(3), nn.Conv2d(2, channels, 7, bias=bias), norm(channels), nn.ReLU(True)]
        rate = 0.5 if dropout else 0.0
        layers += [ResnetBlock(channels, norm, rate, pad, dropout_layer) for _ in range(num_blocks)]
        layers += [pad(3), nn.Conv2d(channels, 1, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


@dataclass
class RegionLayout:
    """Where the six regions are for one batch.

    Attributes:
        boxes: per box part, ``(B, 2)`` (top, left) corners.
        hair_mask: ``(B, 1, H, W)`` {0, 1}: person pixels outside the four boxes.
        background_region: ``(B, 1, H, W)`` {0, 1}: non-person pixels.
    """

    boxes: dict[FacePart, Tensor]
    hair_mask: Tensor
    background_region: Tensor

    @classmethod
    def from_batch(cls, landmarks: Tensor, background_mask: Tensor) -> RegionLayout:
        """Build the layout from ``(B, 5, 2)`` landmarks and the ``(B, 1, H, W)`` person mask (1 = person)."""
        size = background_mask.shape[-1]
        boxes = part_boxes(landmarks, size)
        person = (background_mask >= 0.5).to(background_mask.dtype)
        return cls(boxes, boxes_mask(boxes, size, background_mask) * person, 1 - person)

    def regions(self, images: Tensor) -> dict[FacePart, Tensor]:
        """The six region images of ``(B, C, H, W)`` images in [-1, 1]: four crops, two masked full images."""
        parts = crop_parts(images, self.boxes, images.shape[-1])
        parts[FacePart.HAIR] = region_image(images, self.hair_mask)
        parts[FacePart.BACKGROUND] = region_image(images, self.background_region)
        return parts


@dataclass
class GeneratorOutput:
    """Everything the hierarchical generator produces for one batch (drawings in [-1, 1], ``(B, 1, ...)``)."""

    drawing: Tensor
    global_drawing: Tensor
    composite: Tensor
    parts: dict[FacePart, Tensor]
    layout: RegionLayout


class HierarchicalGenerator(nn.Module):
    """APDrawingGAN generator: a global U-Net, six part U-Nets, min-compositing and a fusion net.

    Args:
        image_size: square input side; the global U-Net has ``log2(image_size) - 1`` levels (8 at 512).
        global_channels: first-level width of the global U-Net (64 in the paper).
        part_channels: first-level width of the part U-Nets (64).
        fusion_channels: width of the fusion net (64).
        norm_layer: ``batch`` (paper), ``sync_batch`` (DDP), ``instance``, ``none`` or a class.
        dropout: dropout as in the paper (global and hair/background U-Nets, fusion blocks).
        dropout_layer: ``fast`` (ours: same distribution, cheaper masks) or ``torch`` (``nn.Dropout``: the
            original's masks for a given seed), or a class.
        pad_layer: ``reflect`` (ours: keeps bf16 under autocast) or ``torch`` (``nn.ReflectionPad2d``), or a class.

    Shape:
        photo ``(B, 3, S, S)`` in [-1, 1], landmarks ``(B, 5, 2)`` pixels, background_mask ``(B, 1, S, S)``
        in [0, 1] (1 = person) -> :class:`GeneratorOutput` with ``drawing`` ``(B, 1, S, S)`` in [-1, 1].
    """

    def __init__(
        self,
        image_size: int = 512,
        global_channels: int = 64,
        part_channels: int = 64,
        fusion_channels: int = 64,
        norm_layer: str | type[nn.Module] = "batch",
        dropout: bool = True,
        dropout_layer: str | type[nn.Module] = "fast",
        pad_layer: str | type[nn.Module] = "reflect",
    ) -> None:
        super().__init__()
        levels = math.log2(image_size)
        if image_size < 64 or levels != int(levels):
            raise ValueError(f"image_size must be a power of two >= 64, got {image_size}")
        self.image_size = image_size
        num_downs = int(levels) - 1
        layers = {"norm_layer": norm_layer, "dropout_layer": dropout_layer}
        self.global_net = UNetGenerator(
            3, 1, global_channels, num_downs, 8, min(3, num_downs - 5) if dropout else 0, **layers
        )
        parts: dict[str, nn.Module] = {}
        for part in FacePart:
            if part in BOX_PARTS:
                parts[part.value] = UNetGenerator(3, 1, part_channels, 3, 4, 0, **layers)
            else:
                parts[part.value] = UNetGenerator(3, 1, part_channels, 4, 2, 1 if dropout else 0, **layers)
        self.part_nets = nn.ModuleDict(parts)
        self.fusion = FusionNet(fusion_channels, 2, norm_layer, dropout, pad_layer, dropout_layer)

    def forward(self, photo: Tensor, landmarks: Tensor, background_mask: Tensor) -> GeneratorOutput:
        if photo.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"photo must be {self.image_size}×{self.image_size}, got {tuple(photo.shape)}")
        global_drawing = self.global_net(photo)  # first, as the original (same dropout draws for a seed)
        layout = RegionLayout.from_batch(landmarks, background_mask)
        photo_regions = layout.regions(photo)
        parts = {part: self.part_nets[part.value](photo_regions[part]) for part in FacePart}
        composite = composite_parts(parts, layout.boxes, layout.hair_mask, layout.background_region)
        drawing = self.fusion(torch.cat([global_drawing, composite], dim=1))
        return GeneratorOutput(drawing, global_drawing, composite, parts, layout)


class APDrawingDiscriminators(nn.Module):
    """One global and six local conditional PatchGANs (photo and drawing concatenated: 4 channels).

    Args:
        image_size: square image side (used to check the local crops are large enough).
        base_channels: first-layer width (64 in the paper).
        num_layers: stride-2 layers of the global D (3: 70×70 patches).
        local_num_layers: stride-2 layers of the six local Ds (3 in the paper; lower for tiny images).
        norm_layer: norm class or alias.

    Shape:
        ``forward(photo_regions, drawing_regions)`` takes two dicts of region images (as from
        :meth:`RegionLayout.regions`) plus the full images under key ``None`` and returns logits per key.
    """

    def __init__(
        self,
        image_size: int = 512,
        base_channels: int = 64,
        num_layers: int = 3,
        local_num_layers: int = 3,
        norm_layer: str | type[nn.Module] = "batch",
    ) -> None:
        super().__init__()
        self.global_net = PatchDiscriminator(4, base_channels, num_layers, norm_layer)
        self.local_nets = nn.ModuleDict(
            {part.value: PatchDiscriminator(4, base_channels, local_num_layers, norm_layer) for part in FacePart}
        )
        smallest = min(min(part_box_size(p, image_size)) for p in BOX_PARTS)
        needed = self.local_nets[FacePart.NOSE.value].min_input_size()
        if smallest < needed:
            raise ValueError(
                f"at image_size={image_size} the smallest part crop is {smallest} px but a "
                f"{local_num_layers}-layer PatchGAN needs {needed}; lower local_num_layers"
            )

    def forward(self, photo: Tensor, drawing: Tensor, photo_regions: dict, drawing_regions: dict) -> dict:
        """Logits of the global D (key ``"global"``) and of each local D (keys :class:`FacePart`)."""
        out = {"global": self.global_net(torch.cat([photo, drawing], dim=1))}
        for part in FacePart:
            pair = torch.cat([photo_regions[part], drawing_regions[part]], dim=1)
            out[part] = self.local_nets[part.value](pair)
        return out
