"""The face-part vocabulary (:class:`FacePart`, QMUPD's :data:`REGIONS`) and APDrawingGAN's part geometry: part
boxes, vectorised crop and paste, region masks.

The paper's boxes are defined at 512 px (eyes 80×112, nose 96×96, mouth 80×128, H×W) around centres derived
from the five landmarks. At other sizes the boxes scale with ``image_size / 512`` and are rounded up to a multiple
of 8 so the three-level part U-Nets always see even feature maps. Boxes are shifted (not cut) to stay inside the
image, which the original code did not guard.
"""

from __future__ import annotations

import math
from enum import Enum

import torch
from torch import Tensor


class FacePart(str, Enum):
    """The face parts every model, dataset and preprocessing step names: the six regions of APDrawingGAN's
    hierarchical generator in compositing order (the values name its part nets); QMUPD's regions group them
    (:data:`REGIONS`). Left and right are the image's."""

    EYE_LEFT = "eye_left"
    EYE_RIGHT = "eye_right"
    NOSE = "nose"
    MOUTH = "mouth"
    HAIR = "hair"
    BACKGROUND = "background"


#: The four parts that are cropped as rectangles (the other two are full-size masked images).
BOX_PARTS: tuple[FacePart, ...] = (FacePart.EYE_LEFT, FacePart.EYE_RIGHT, FacePart.NOSE, FacePart.MOUTH)

#: UPD / QMUPD's three facial regions in channel order (their masks, their local discriminators), each the union of
#: these parts. The names are the reference's: mask folders ``A_nose`` / ``A_eyes`` / ``A_lips`` and weights
#: ``D_ln`` / ``D_le`` / ``D_ll``.
REGIONS: dict[str, tuple[FacePart, ...]] = {
    "nose": (FacePart.NOSE,),
    "eyes": (FacePart.EYE_LEFT, FacePart.EYE_RIGHT),
    "lips": (FacePart.MOUTH,),
}

_BOX_SIZE_512 = {  # (height, width) at 512 px, paper values
    FacePart.EYE_LEFT: (80, 112),
    FacePart.EYE_RIGHT: (80, 112),
    FacePart.NOSE: (96, 96),
    FacePart.MOUTH: (80, 128),
}


def _round8(value: float) -> int:
    return max(8, math.ceil(value / 8 - 1e-9) * 8)


def part_box_size(part: FacePart, image_size: int) -> tuple[int, int]:
    """Height and width of a part box at ``image_size`` (multiples of 8; the paper's sizes at 512)."""
    height, width = _BOX_SIZE_512[FacePart(part)]
    scale = image_size / 512
    return _round8(height * scale), _round8(width * scale)


def part_centers(landmarks: Tensor, image_size: int) -> dict[FacePart, Tensor]:
    """Integer box centres from the five landmarks.

    Args:
        landmarks: ``(B, 5, 2)`` (x, y) pixel coordinates in the dataset order (image-left eye, image-right eye,
            nose tip, image-left mouth corner, image-right mouth corner).
        image_size: side of the square image the landmarks refer to.

    Returns:
        Per box part a ``(B, 2)`` long tensor of (x, y) centres: eyes 8 px (at 512) above the eye landmark, nose
        16 px above the tip (rounded), mouth at the corners' midpoint rounded down as in the original.
    """
    if landmarks.ndim != 3 or landmarks.shape[1:] != (5, 2):
        raise ValueError(f"landmarks must have shape (B, 5, 2), got {tuple(landmarks.shape)}")
    scale = image_size / 512
    lm = landmarks.detach().float()
    up = lm.new_tensor([0.0, 1.0])
    centers = {
        FacePart.EYE_LEFT: torch.floor(lm[:, 0] - up * 8 * scale + 0.5),
        FacePart.EYE_RIGHT: torch.floor(lm[:, 1] - up * 8 * scale + 0.5),
        FacePart.NOSE: torch.floor(lm[:, 2] - up * 16 * scale + 0.5),
        # the original truncates the corners' midpoint: int((x3 + x4) / 2)
        FacePart.MOUTH: torch.floor((lm[:, 3] + lm[:, 4]) / 2),
    }
    return {part: c.long() for part, c in centers.items()}


def part_boxes(landmarks: Tensor, image_size: int) -> dict[FacePart, Tensor]:
    """Top-left corners of the four part boxes, shifted to lie inside the image.

    Returns:
        Per box part a ``(B, 2)`` long tensor of (top, left) pixel indices; the box size is
        :func:`part_box_size`.
    """
    boxes = {}
    for part, center in part_centers(landmarks, image_size).items():
        height, width = part_box_size(part, image_size)
        top = (center[:, 1] - height // 2).clamp(0, image_size - height)
        left = (center[:, 0] - width // 2).clamp(0, image_size - width)
        boxes[part] = torch.stack([top, left], dim=1)
    return boxes


def _box_indices(corner: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
    height, width = size
    device = corner.device
    rows = corner[:, 0:1] + torch.arange(height, device=device)  # (B, h)
    cols = corner[:, 1:2] + torch.arange(width, device=device)  # (B, w)
    batch = torch.arange(corner.shape[0], device=device)
    return batch[:, None, None], rows[:, :, None], cols[:, None, :]


def crop_box(images: Tensor, corner: Tensor, size: tuple[int, int]) -> Tensor:
    """Crop one box per sample in a single gather (differentiable).

    Args:
        images: ``(B, C, H, W)``.
        corner: ``(B, 2)`` (top, left) long indices.
        size: (h, w) of the box.

    Returns:
        ``(B, C, h, w)`` crops.
    """
    batch, rows, cols = _box_indices(corner, size)
    # Advanced indexing on dims 0, 2, 3 puts the broadcast index dims first: (B, h, w, C).
    return images.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def paste_box(canvas: Tensor, crops: Tensor, corner: Tensor) -> Tensor:
    """Write ``crops`` into a copy of ``canvas`` at ``corner`` (differentiable in both inputs).

    Args:
        canvas: ``(B, C, H, W)``.
        crops: ``(B, C, h, w)``.
        corner: ``(B, 2)`` (top, left).

    Returns:
        ``(B, C, H, W)``: the canvas with the boxes replaced.
    """
    batch, rows, cols = _box_indices(corner, tuple(crops.shape[-2:]))
    out = canvas.permute(0, 2, 3, 1).index_put((batch, rows, cols), crops.permute(0, 2, 3, 1))
    return out.permute(0, 3, 1, 2)


def crop_parts(images: Tensor, boxes: dict[FacePart, Tensor], image_size: int) -> dict[FacePart, Tensor]:
    """Crop the four box parts of a batch: ``{part: (B, C, h_part, w_part)}``."""
    return {part: crop_box(images, corner, part_box_size(part, image_size)) for part, corner in boxes.items()}


def boxes_mask(boxes: dict[FacePart, Tensor], image_size: int, like: Tensor) -> Tensor:
    """``(B, 1, H, W)`` mask that is 0 inside the four part boxes and 1 elsewhere (the paper's ``mask``)."""
    mask = like.new_ones(like.shape[0], 1, image_size, image_size)
    for part, corner in boxes.items():
        height, width = part_box_size(part, image_size)
        mask = paste_box(mask, like.new_zeros(like.shape[0], 1, height, width), corner)
    return mask


def region_image(images: Tensor, mask: Tensor) -> Tensor:
    """Keep a region of an image in [-1, 1] and paint the rest black (-1), as the paper's region images.

    Args:
        images: ``(B, C, H, W)`` in [-1, 1].
        mask: ``(B, 1, H, W)`` in [0, 1].
    """
    return (images + 1) * mask - 1


def composite_parts(
    parts: dict[FacePart, Tensor],
    boxes: dict[FacePart, Tensor],
    hair_mask: Tensor,
    background_region: Tensor,
) -> Tensor:
    """Min-composite the six part drawings on white, so the darkest stroke wins (paper's ``comb_op=1``).

    Args:
        parts: box parts ``(B, 1, h, w)`` and full-size ``HAIR`` / ``BACKGROUND`` drawings ``(B, 1, H, W)``,
            all in [-1, 1].
        boxes: part corners from :func:`part_boxes`.
        hair_mask: ``(B, 1, H, W)`` hair region (outside the boxes, inside the person mask).
        background_region: ``(B, 1, H, W)`` background region (1 - person mask).

    Returns:
        ``(B, 1, H, W)`` in [-1, 1].
    """
    white = torch.ones_like(parts[FacePart.HAIR])
    layers = [
        parts[FacePart.HAIR] * hair_mask + (1 - hair_mask),
        parts[FacePart.BACKGROUND] * background_region + (1 - background_region),
    ]
    layers += [paste_box(white, parts[part], boxes[part]) for part in BOX_PARTS]
    return torch.stack(layers, dim=0).amin(dim=0)
