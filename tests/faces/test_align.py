"""Pure alignment functions (apd_lightning.faces.align): no MediaPipe needed."""

from __future__ import annotations

import numpy as np
import pytest

from apd_lightning.faces import (
    TEMPLATE_512,
    align_face,
    fit_similarity,
    template_points,
    transform_points,
    warp_like,
)

# The spec's 1-based MATLAB values at 512 px (apdrawinggan.md §1.3, qmupd.md §1).
SPEC_1_BASED = np.array([[201.14, 246.86], [310.86, 246.86], [256.0, 311.77], [206.63, 370.83], [305.37, 370.83]])


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    rotation = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([rotation, [[tx], [ty]]])


def test_template_512_matches_spec_zero_based():
    np.testing.assert_allclose(template_points(512), SPEC_1_BASED - 1.0, atol=0.006)
    np.testing.assert_array_equal(template_points(512), TEMPLATE_512)
    assert TEMPLATE_512[2].tolist() == [255.0, pytest.approx(310.771428, abs=1e-5)]


def test_template_scales_with_size():
    np.testing.assert_allclose(template_points(256), TEMPLATE_512 / 2)
    np.testing.assert_allclose(template_points(1024), TEMPLATE_512 * 2)
    with pytest.raises(ValueError, match="positive"):
        template_points(0)


@pytest.mark.parametrize(
    ("angle", "scale", "tx", "ty"), [(0, 1, 0, 0), (17.5, 2.3, -40, 12.25), (-100, 0.31, 300, -7), (180, 1.5, 5, 5)]
)
def test_fit_similarity_recovers_known_transform(angle, scale, tx, ty):
    src = np.random.default_rng(0).uniform(0, 500, (5, 2))
    truth = _similarity(angle, scale, tx, ty)
    np.testing.assert_allclose(fit_similarity(src, transform_points(src, truth)), truth, atol=1e-9)


def test_fit_similarity_is_least_squares_and_never_reflects():
    src = np.random.default_rng(1).uniform(0, 100, (5, 2))
    mirrored = src * [-1, 1]
    matrix = fit_similarity(src, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0  # a rotation+scale, not a flip
    # Least squares: no nearby similarity [[a, -b, tx], [b, a, ty]] has a smaller residual.
    noisy = transform_points(src, _similarity(10, 1.2, 3, 4)) + np.random.default_rng(2).normal(0, 2, (5, 2))
    best = fit_similarity(src, noisy)
    cost = ((transform_points(src, best) - noisy) ** 2).sum()
    directions = [
        [[1, 0, 0], [0, 1, 0]],
        [[0, -1, 0], [1, 0, 0]],  # a, b
        [[0, 0, 1], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 1]],
    ]  # tx, ty
    for direction in np.array(directions, dtype=np.float64):
        for step in (1e-3, -1e-3):
            assert cost < ((transform_points(src, best + step * direction) - noisy) ** 2).sum()


def test_fit_similarity_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        fit_similarity(np.zeros((5, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same shape"):
        fit_similarity(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="identical"):
        fit_similarity(np.ones((5, 2)), np.zeros((5, 2)))


@pytest.mark.parametrize("shape", [(40, 60), (40, 60, 3)])
def test_warp_like_fills_white(shape):
    black = np.zeros(shape, np.uint8)
    out = warp_like(black, _similarity(30, 0.5, 10, 10), 64)
    assert out.shape == (64, 64, *shape[2:]) and out.dtype == np.uint8
    assert (out[-1, -1] == 255).all() and (out[0, 0] == 255).all()  # outside the source: white
    assert (out[20, 20] == 0).all()  # inside the (shrunken, rotated) source: black


def test_align_face_puts_points_on_template():
    size = 256
    truth = _similarity(-12, 0.7, 30, -20)  # aligned -> source
    inverse = np.linalg.inv(np.vstack([truth, [0, 0, 1]]))[:2]
    source_points = transform_points(template_points(size), truth)
    image = np.full((300, 280, 3), 255, np.uint8)
    x, y = np.round(source_points[0]).astype(int)
    image[y - 2 : y + 3, x - 2 : x + 3] = 0  # a black dot on the left eye
    aligned = align_face(image, source_points, size)
    np.testing.assert_allclose(aligned.matrix, inverse, atol=1e-9)
    np.testing.assert_allclose(aligned.landmarks, template_points(size), atol=1e-9)
    dark = np.argwhere(aligned.image.min(axis=2) < 128)
    np.testing.assert_allclose(dark.mean(axis=0)[::-1], transform_points([[x, y]], inverse)[0], atol=0.5)
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        align_face(image, source_points[:4], size)
