"""framing: the photo <-> aligned square maps, alignment from reduced decodes, the warp back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apd_lightning.draw.framing import align, compose, detection_copy, footprint, invert, scaling, warp_back
from apd_lightning.draw.photo import Photo
from apd_lightning.faces.align import align_face, template_points, transform_points


def smooth_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB image (low frequencies only, so resampling at any scale agrees)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 40 + 2, width // 40 + 2, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def face_points(size: int, scale: float, offset: tuple[float, float], angle: float = 10.0) -> np.ndarray:
    """The template at 512 scaled, rotated and moved into a photo: the face's five points there."""
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return (template_points(size) - size / 2) @ rotation.T * scale + np.asarray(offset)


def test_affine_helpers_compose_and_invert():
    a = np.array([[2.0, 0.5, 3.0], [-0.5, 2.0, -1.0]])
    b = np.array([[1.0, 0.0, 10.0], [0.0, 1.0, 5.0]])
    points = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(
        transform_points(points, compose(a, b)), transform_points(transform_points(points, b), a)
    )
    np.testing.assert_allclose(transform_points(transform_points(points, a), invert(a)), points, atol=1e-12)
    # pixel-centre convention: photo pixel 0.5 (the centre of a 2×2 block) is pixel 0 of the half-size copy
    np.testing.assert_allclose(transform_points(np.array([[0.5, 1.5]]), scaling(0.5, 0.5)), [[0.0, 0.5]])


def test_detection_copy_keeps_small_images_and_shrinks_large_ones():
    image = np.zeros((100, 200, 3), np.uint8)
    assert detection_copy(image, 400)[0] is image
    copy, factor = detection_copy(np.zeros((1000, 3000, 3), np.uint8), 1200)
    assert copy.shape == (400, 1200, 3) and factor == pytest.approx(0.4)


def test_align_matches_align_face_and_works_from_a_reduced_decode():
    full = smooth_photo(1200, 1600)
    points = face_points(256, 2.0, (800, 560))  # the face is twice the 256 template: the warp shrinks 2×
    reference = align_face(full, points, 256)
    aligned = align(Photo(full, (1600, 1200)), points, 256)
    np.testing.assert_allclose(aligned.matrix, reference.matrix)
    np.testing.assert_allclose(aligned.landmarks, template_points(256), atol=1e-6)
    assert np.abs(aligned.image.astype(int) - reference.image).mean() < 1.0
    half = cv2.resize(full, (800, 600), interpolation=cv2.INTER_AREA)
    calls = []
    reduced = Photo(half, (1600, 1200), full=lambda: calls.append(1) or full)
    from_half = align(reduced, points, 256)
    assert not calls  # the half-size decode holds enough pixels for this face
    assert np.abs(from_half.image.astype(int) - reference.image).mean() < 1.5


def test_align_decodes_the_full_photo_only_for_small_faces():
    full = smooth_photo(1200, 1600)
    points = face_points(256, 0.5, (800, 600))  # a small face: the aligned square magnifies it 2×
    reduced = Photo(cv2.resize(full, (400, 300), interpolation=cv2.INTER_AREA), (1600, 1200), full=lambda: full)
    aligned = align(reduced, points, 256)
    assert reduced.full is None and reduced.image is full
    assert np.abs(aligned.image.astype(int) - align_face(full, points, 256).image).mean() < 1.0


def test_align_shrinks_by_area_averaging_before_a_large_reduction():
    stripes = np.zeros((2000, 2000, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: a plain bicubic warp at 1/6 scale aliases them
    points = face_points(128, 6.0, (1000, 1000), angle=0.0)
    aligned = align(Photo(stripes, (2000, 2000)), points, 128)
    inside = aligned.image[10:-10, 10:-10].astype(float)
    assert abs(inside.mean() - 127.5) < 3 and inside.std() < 6  # averaged to grey, not aliased


def test_warp_back_puts_the_drawing_where_the_face_is_and_white_elsewhere():
    size, width, height = 128, 900, 700
    points = face_points(size, 2.5, (420, 330))
    matrix = align(Photo(smooth_photo(height, width), (width, height)), points, size).matrix
    drawing = np.full((size, size), 200, np.uint8)
    drawing[60:68, 60:68] = 0  # a dark mark at the aligned centre
    frame = warp_back(drawing, matrix, width, height)
    assert frame.shape == (height, width) and frame.dtype == np.uint8
    centre = transform_points(np.array([[63.5, 63.5]]), invert(matrix))[0]
    assert frame[int(round(centre[1])), int(round(centre[0]))] < 30
    aligned_coords = transform_points(
        np.stack(np.meshgrid(np.arange(width), np.arange(height)), -1).reshape(-1, 2), matrix
    )
    outside = ((aligned_coords < -1) | (aligned_coords > size)).any(axis=1).reshape(height, width)
    assert outside.any() and (frame[outside] == 255).all()
    x0, y0, x1, y1 = footprint(matrix, size, width, height)
    assert (frame[:, :x0] == 255).all() and (frame[:, x1:] == 255).all()
    assert (frame[:y0] == 255).all() and (frame[y1:] == 255).all()


def test_warp_back_averages_a_drawing_that_the_photo_holds_at_a_quarter_of_its_size():
    size = 256
    points = face_points(size, 0.25, (100, 100), angle=0.0)  # the photo shows the face at 1/4 of the square
    matrix = align(Photo(smooth_photo(200, 200), (200, 200)), points, size).matrix
    stripes = np.full((size, size), 255, np.uint8)
    stripes[:, ::2] = 0  # one-pixel lines
    frame = warp_back(stripes, matrix, 200, 200)
    x0, y0, x1, y1 = footprint(matrix, size, 200, 200)
    inside = frame[y0 + 6 : y1 - 6, x0 + 6 : x1 - 6].astype(float)
    assert abs(inside.mean() - 127.5) < 5 and inside.std() < 8  # grey, not aliased into white or black bands


def test_the_segmentation_view_is_small_and_maps_to_the_same_aligned_square():
    from apd_lightning.draw.framing import segmentation_view

    image = smooth_photo(3000, 4000)
    points = face_points(512, 4.0, (2000, 1400))
    matrix = align(Photo(image, (4000, 3000)), points, 512).matrix
    view, to_aligned = segmentation_view(image, matrix, 512)
    assert max(view.shape[:2]) == 512
    # the view warped into the aligned square shows what the photo warped there shows
    direct = cv2.warpAffine(image, matrix, (512, 512), flags=cv2.INTER_LINEAR)
    from_view = cv2.warpAffine(view, to_aligned, (512, 512), flags=cv2.INTER_LINEAR)
    assert np.abs(direct.astype(int) - from_view).mean() < 2
    small = smooth_photo(300, 400)
    view, to_aligned = segmentation_view(
        small, align(Photo(small, (400, 300)), face_points(128, 0.8, (200, 150)), 128).matrix, 128
    )
    assert view.shape[:2] == (300, 400) or max(view.shape[:2]) < 512  # never enlarged
