"""Region masks from the face mesh, person masks (cleaning: largest region, holes filled; segmentation before the
warp; the MediaPipe ensemble) and probability-to-mask conversion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apd_lightning.faces import (
    MESH_PARTS,
    Segmenter,
    aligned_person_mask,
    clean_person_mask,
    fit_similarity,
    part_mask,
    probability_to_mask,
    warp_like,
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


class RedSegmenter(Segmenter):
    """Person = red pixels; remembers every image it was given."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        self.seen.append(image_rgb.copy())
        return (image_rgb[..., 0] > 128).astype(np.float32)


def test_clean_keeps_the_largest_region_and_fills_its_holes():
    probability = np.zeros((60, 60), np.float32)
    probability[10:50, 10:40] = 0.9  # the person
    probability[25:30, 20:25] = 0.1  # a hole in it
    probability[5:9, 50:58] = 0.8  # a separate blob (background mistaken for a person)
    probability[10:50, 40] = 0.3  # a soft edge beside the person
    cleaned = clean_person_mask(probability)
    assert cleaned.dtype == np.float32 and cleaned.shape == (60, 60)
    region = np.zeros((60, 60), bool)
    region[10:50, 10:40] = True
    np.testing.assert_array_equal(cleaned >= 0.5, region)  # thresholding gives the filled largest region
    assert (cleaned[25:30, 20:25] == 1).all() and (cleaned[5:9, 50:58] == 0).all()
    np.testing.assert_allclose(cleaned[10:50, 40], 0.3)  # soft edge kept, below the threshold
    np.testing.assert_allclose(cleaned[12, 12], 0.9)


def test_clean_of_an_empty_mask_is_empty():
    assert not clean_person_mask(np.full((8, 8), 0.2, np.float32)).any()
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        clean_person_mask(np.zeros((8, 8, 1)))


def _photo_with_person(height: int = 120, width: int = 100) -> np.ndarray:
    photo = np.full((height, width, 3), (40, 160, 60), np.uint8)  # green background, no white anywhere
    cv2.ellipse(photo, (50, 70), (28, 40), 0, 0, 360, (220, 90, 80), -1)  # a red "person"
    return photo


def test_segmented_before_the_warp_and_zero_outside_the_photo():
    photo = _photo_with_person()
    # aligned frame 64 px whose left third lies outside the photo (the warp's white border)
    matrix = fit_similarity(np.array([[-20.0, 10.0], [80.0, 10.0]]), np.array([[0.0, 0.0], [64.0, 0.0]]))
    segmenter = RedSegmenter()
    mask = aligned_person_mask(photo, matrix, 64, segmenter)
    assert mask.shape == (64, 64) and mask.dtype == np.uint8
    (seen,) = segmenter.seen
    assert seen.shape[0] == seen.shape[1] and not (seen == 255).all(axis=2).any()  # square, never the white border
    inside = warp_like(np.ones(photo.shape[:2], np.uint8), matrix, 64, fill=0, interpolation=cv2.INTER_NEAREST) > 0
    assert not inside.all() and (mask[~inside] == 0).all()
    expected = warp_like(
        (photo[..., 0] > 128).astype(np.uint8) * 255, matrix, 64, fill=0, interpolation=cv2.INTER_LINEAR
    )
    agree = (mask >= 128) == (expected >= 128)
    assert agree[inside].mean() > 0.98  # the photo's own mask, carried into the aligned frame


def test_a_rotated_face_is_covered_to_the_corners():
    photo = np.full((300, 300, 3), (220, 90, 80), np.uint8)  # person everywhere
    angle = np.deg2rad(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = np.array([[110.0, 140.0], [190.0, 150.0], [150.0, 200.0]])
    matrix = fit_similarity(source, (source - 150) @ rotation.T * 0.8 + 64)
    mask = aligned_person_mask(photo, matrix, 128, RedSegmenter())
    assert (mask == 255).all()  # the segmented square contains the whole rotated footprint


def test_bad_matrix_raises():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        aligned_person_mask(_photo_with_person(), np.eye(3), 64, RedSegmenter())


def test_mediapipe_ensemble_on_a_portrait():
    data = pytest.importorskip("skimage.data")
    pytest.importorskip("mediapipe")
    from apd_lightning.faces import MediaPipeSegmenter

    astronaut = data.astronaut()
    with MediaPipeSegmenter() as both, MediaPipeSegmenter(model_selection=0, mirror=False) as general:
        averaged, single = both.segment(astronaut), general.segment(astronaut)
        mask = both.person_mask(astronaut)
    assert averaged.shape == single.shape == (512, 512) and 0 <= averaged.min() and averaged.max() <= 1
    assert averaged[250, 256] > 0.9 and averaged[20, 20] < 0.1  # face / background corner
    assert not np.allclose(averaged, single)  # four views, not one
    assert mask.dtype == np.uint8 and mask[250, 256] > 230
    with pytest.raises(ValueError, match="model_selection"):
        MediaPipeSegmenter(model_selection=2)
