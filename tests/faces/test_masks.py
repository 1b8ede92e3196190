"""Person masks: cleaning (largest region, holes filled), segmentation before the warp, the MediaPipe ensemble."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apd_lightning.faces import Segmenter, aligned_person_mask, clean_person_mask, fit_similarity, warp_like


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
