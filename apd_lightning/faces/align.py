"""Five-point similarity alignment onto the APDrawing / QMUPD 512 template (pure numpy + OpenCV).

The template is the one of the original ``face_align_512.m``: five points defined on a 480-pixel canvas
and mapped by ``(c - 240) / 560 * 512 + 256``. MATLAB gave them in 1-based pixel coordinates; here every
point is a 0-based pixel index (pixel centres at integers), the convention of NumPy and ``cv2.warpAffine``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The template on the original 480-pixel canvas, in the dataset's landmark order
#: (image-left eye, image-right eye, nose tip, image-left mouth corner, image-right mouth corner).
TEMPLATE_480 = np.array([[180.0, 230.0], [300.0, 230.0], [240.0, 301.0], [186.0, 365.6], [294.0, 365.6]])

#: The template at 512 px, 0-based: eyes (200.14, 245.86) and (309.86, 245.86), nose (255.0, 310.77),
#: mouth corners (205.63, 369.83) and (304.37, 369.83). Shape ``(5, 2)``, float64, ``(x, y)``.
TEMPLATE_512 = (TEMPLATE_480 - 240.0) / 560.0 * 512.0 + 256.0 - 1.0


@dataclass(frozen=True)
class AlignedFace:
    """Result of :func:`align_face`.

    Attributes:
        image: the aligned image, ``(size, size, C)`` or ``(size, size)``, same dtype as the input.
        landmarks: the five points carried into the aligned image, ``(5, 2)`` float64 pixel ``(x, y)``.
        matrix: the 2×3 similarity from source pixels to aligned pixels (float64).
    """

    image: np.ndarray
    landmarks: np.ndarray
    matrix: np.ndarray


def template_points(size: int = 512) -> np.ndarray:
    """The five template points for an aligned square of side ``size``.

    Args:
        size: side of the aligned image in pixels (512 in the papers).

    Returns:
        ``(5, 2)`` float64 ``(x, y)`` 0-based pixel coordinates: :data:`TEMPLATE_512` times ``size / 512``
        (the convention the datamodules use to rescale landmark files).

    Example:
        >>> template_points(256)[0].round(2).tolist()
        [100.07, 122.93]
    """
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    return TEMPLATE_512 * (size / 512.0)


def _check_points(points: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 2:
        raise ValueError(f"{name} must have shape (N, 2) with N >= 2, got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{name} contains non-finite values")
    return points


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation; no reflection) from ``src`` to ``dst``.

    Umeyama (1991): minimises ``sum_i ||dst_i - (s R src_i + t)||²``; the same objective as MATLAB's
    ``cp2tform(..., 'nonreflective similarity')``. Exact when the points are related by a similarity.

    Args:
        src: ``(N, 2)`` source points ``(x, y)``, N >= 2, not all equal.
        dst: ``(N, 2)`` target points.

    Returns:
        ``(2, 3)`` float64 matrix ``[s R | t]`` such that ``dst ≈ src @ M[:, :2].T + M[:, 2]``.

    Example:
        >>> fit_similarity(np.array([[0, 0], [1, 0]]), np.array([[1, 1], [1, 3]])).round(6).tolist()
        [[0.0, -2.0, 1.0], [2.0, 0.0, 1.0]]
    """
    src, dst = _check_points(src, "src"), _check_points(dst, "dst")
    if src.shape != dst.shape:
        raise ValueError(f"src and dst must have the same shape, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = (src_c**2).sum() / len(src)
    if src_var < 1e-12:
        raise ValueError("src points are all (almost) identical; a similarity is undefined")
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # the best orthogonal map would be a reflection: forbid it
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(singular) @ sign) / src_var
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine ``matrix`` to ``(N, 2)`` points; returns ``(N, 2)`` float64."""
    points = np.asarray(points, dtype=np.float64)
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (2, 3):
        raise ValueError(f"matrix must have shape (2, 3), got {matrix.shape}")
    return points @ matrix[:, :2].T + matrix[:, 2]


def warp_like(
    image: np.ndarray, matrix: np.ndarray, size: int, fill: int = 255, interpolation: int = cv2.INTER_CUBIC
) -> np.ndarray:
    """Warp an image with a source→aligned 2×3 matrix into a ``size × size`` square.

    Use it to carry a photo's drawing (or any image registered with the photo) into the aligned frame.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` uint8 (C <= 4).
        matrix: ``(2, 3)`` source→aligned transform, e.g. :attr:`AlignedFace.matrix`.
        size: side of the output square.
        fill: value of pixels that fall outside the source (255 = white, as the original).
        interpolation: OpenCV flag; bicubic as the original (``INTER_NEAREST`` or ``INTER_LINEAR`` for masks).

    Returns:
        ``(size, size)`` or ``(size, size, C)`` array of the input's dtype.
    """
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] > 4):
        raise ValueError(f"image must be (H, W) or (H, W, C<=4), got shape {image.shape}")
    channels = 1 if image.ndim == 2 else image.shape[2]
    return cv2.warpAffine(
        np.ascontiguousarray(image),
        np.asarray(matrix, dtype=np.float64),
        (size, size),
        flags=interpolation,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(fill,) * channels if channels > 1 else fill,
    )


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 512) -> AlignedFace:
    """Align a face onto the template: fit the similarity of its 5 points and warp (bicubic, white fill).

    Args:
        image: ``(H, W, 3)`` or ``(H, W)`` uint8 photo.
        landmarks: ``(5, 2)`` pixel ``(x, y)`` in the dataset order (left eye, right eye, nose, left mouth,
            right mouth; left/right as seen in the image).
        size: side of the aligned square.

    Returns:
        :class:`AlignedFace` with the aligned image, the carried landmarks (float, round them for the
        dataset files) and the source→aligned matrix.
    """
    landmarks = _check_points(landmarks, "landmarks")
    if landmarks.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2), got {landmarks.shape}")
    matrix = fit_similarity(landmarks, template_points(size))
    return AlignedFace(warp_like(image, matrix, size), transform_points(landmarks, matrix), matrix)
