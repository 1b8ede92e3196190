"""Stateless tensor functions (no Lightning imports)."""

from .distance_transform import (
    DEFAULT_RADIUS,
    DistanceTransform,
    distance_transform,
    drawing_distance_maps,
    exact_distance_transform,
)
from .face_parts import (
    BOX_PARTS,
    REGIONS,
    FacePart,
    boxes_mask,
    composite_parts,
    crop_box,
    crop_parts,
    part_box_size,
    part_boxes,
    part_centers,
    paste_box,
    region_image,
)

__all__ = [
    "BOX_PARTS",
    "DEFAULT_RADIUS",
    "DistanceTransform",
    "REGIONS",
    "FacePart",
    "boxes_mask",
    "composite_parts",
    "crop_box",
    "crop_parts",
    "distance_transform",
    "drawing_distance_maps",
    "exact_distance_transform",
    "part_box_size",
    "part_boxes",
    "part_centers",
    "paste_box",
    "region_image",
]
