"""Part masks and person-mask conversion (no model inference)."""

from __future__ import annotations

import numpy as np
import pytest

from apd_lightning.faces import (
    MESH_PARTS,
    part_mask,
    probability_to_mask,
)
from apd_lightning.ops.face_parts import REGIONS, FacePart


def _mesh_with_region(region: str, centre: tuple[float, float], radius: float = 6.0) -> np.ndarray:
    """A 478-point mesh parked outside the image, except each of the region's parts' points on a circle around
    ``centre``."""
    mesh = np.full((478, 2), -1000.0)
    for part in REGIONS[region]:
        points = list(MESH_PARTS[part])
        angles = np.linspace(0, 2 * np.pi, len(points), endpoint=False)
        mesh[points] = np.asarray(centre) + radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    return mesh


@pytest.mark.parametrize("part", ["nose", "lips"])
def test_part_mask_covers_dilated_hull_with_soft_edges(part):
    size = 160  # dilation radius 160 / 40 = 4 px, blur sigma 1 px; the hull is a 6-px circle
    mask = part_mask(_mesh_with_region(part, (80, 80)), part, size)
    assert mask.shape == (size, size) and mask.dtype == np.uint8
    assert mask[80, 80] == 255 and mask[80, 80 + 7] == 255 and mask[80 - 7, 80] == 255  # hull + margin
    assert 60 < mask[80, 80 + 10] < 200  # edge of the dilated hull: half-way, soft
    assert mask[80, 80 + 14] == 0 and mask[0, 0] == 0


def test_eyes_mask_has_two_regions_and_no_dilation_option():
    mesh = _mesh_with_region("eyes", (40, 50))
    right = np.asarray(MESH_PARTS[FacePart.EYE_RIGHT])
    mesh[right] += 80  # the image-right eye (with brow) at (120, 130)
    mask = part_mask(mesh, "eyes", 160)
    assert mask[50, 40] == 255 and mask[130, 120] == 255 and mask[90, 80] == 0
    hard = part_mask(mesh, "eyes", 160, dilation=0)
    assert set(np.unique(hard)) == {0, 255} and (hard > 0).sum() < (mask > 0).sum()
    with pytest.raises(ValueError, match="unknown region 'ears'; choose one of nose, eyes, lips"):
        part_mask(mesh, "ears", 160)


def test_part_regions_match_installed_mediapipe():
    connections = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")

    def indices(*names: str) -> set[int]:
        return {i for name in names for edge in getattr(connections, name) for i in edge}

    # MediaPipe's left is the subject's: the image-right eye
    assert set(MESH_PARTS[FacePart.EYE_RIGHT]) == indices("FACEMESH_LEFT_EYE", "FACEMESH_LEFT_EYEBROW")
    assert set(MESH_PARTS[FacePart.EYE_LEFT]) == indices("FACEMESH_RIGHT_EYE", "FACEMESH_RIGHT_EYEBROW")
    assert set(MESH_PARTS[FacePart.MOUTH]) == indices("FACEMESH_LIPS")
    assert set(MESH_PARTS[FacePart.NOSE]) == indices("FACEMESH_NOSE")


def test_probability_to_mask_values():
    out = probability_to_mask(np.array([[0.0, 0.5], [1.0, 1.7]]))
    assert out.dtype == np.uint8 and out.tolist() == [[0, 128], [255, 255]]
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        probability_to_mask(np.zeros((2, 2, 1)))
