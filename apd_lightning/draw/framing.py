"""From the photo's frame to the model's aligned square and back (numpy + OpenCV).

Coordinates are 0-based pixel ``(x, y)`` with pixel centres at integers. An image at scale ``s`` of the photo
maps photo pixel ``p`` to ``s · (p + 0.5) − 0.5`` (the centre convention of libjpeg's scaled decode and of
``cv2.resize``). Matrices are 2×3 affine maps ``[A | t]``.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..faces.align import AlignedFace, fit_similarity, template_points, transform_points, warp_like
from .photo import Photo

#: Face detection runs on a copy whose long side is at most this (MediaPipe looks at 128–256 px crops anyway).
DETECT_LONG_SIDE = 1280
#: Before the bicubic warp, the face region is shrunk by area averaging when the warp would shrink it more than
#: this factor (a plain bicubic warp would alias fine textures into noise).
MAX_WARP_SHRINK = 2.0
#: The person segmentation gets the face's surroundings at most this large (MediaPipe's models see 256 px).
SEGMENTATION_SIDE = 512


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine map ``outer ∘ inner`` (apply ``inner`` first), both and the result 2×3."""
    return np.hstack([outer[:, :2] @ inner[:, :2], outer[:, :2] @ inner[:, 2:] + outer[:, 2:]])


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2×3 affine map."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def scaling(sx: float, sy: float) -> np.ndarray:
    """Photo pixels -> pixels of a copy at scale ``(sx, sy)`` (pixel-centre convention)."""
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])


def detection_copy(image: np.ndarray, long_side: int = DETECT_LONG_SIDE) -> tuple[np.ndarray, float]:
    """The image shrunk (area averaging) so that its long side is at most ``long_side``, and its scale."""
    factor = long_side / max(image.shape[:2])
    if factor >= 1:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), factor


def footprint(matrix: np.ndarray, size: int, width: int, height: int, margin: int = 2) -> tuple[int, int, int, int]:
    """Integer box ``(x0, y0, x1, y1)`` of an image of ``width × height`` covering the aligned ``size²`` square
    under the image→aligned ``matrix`` (plus ``margin`` pixels), clipped to the image; may be empty."""
    corners = np.array([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]], np.float64)
    points = transform_points(corners, invert(matrix))
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin + 1
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def align(photo: Photo, points: np.ndarray, size: int) -> AlignedFace:
    """Warp a face onto the model's template, at full quality from whatever resolution the photo holds.

    Decodes the full-resolution photo when the decoded copy is coarser than the aligned square needs; crops the
    face's footprint and shrinks it by area averaging when the warp would shrink more than
    :data:`MAX_WARP_SHRINK` times; then warps bicubically with a white border (as :func:`~apd_lightning.faces.
    align_face`).

    Args:
        photo: the decoded photo.
        points: ``(5, 2)`` landmarks in photo pixels.
        size: side of the aligned square.

    Returns:
        :class:`~apd_lightning.faces.AlignedFace`: the ``(size, size, 3)`` uint8 image, the landmarks in aligned
        pixels and the photo→aligned matrix.
    """
    matrix = fit_similarity(points, template_points(size))  # photo -> aligned
    zoom = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))  # aligned pixels per photo pixel
    if zoom > 1.25 * min(photo.scale):
        photo.load_full()
    image = photo.image
    to_aligned = compose(matrix, invert(scaling(*photo.scale)))  # image -> aligned
    x0, y0, x1, y1 = footprint(to_aligned, size, image.shape[1], image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return AlignedFace(np.full((size, size, 3), 255, np.uint8), transform_points(points, matrix), matrix)
    crop = image[y0:y1, x0:x1]
    to_aligned = compose(to_aligned, np.array([[1.0, 0, x0], [0, 1.0, y0]]))  # crop -> aligned
    shrink = float(np.sqrt(abs(np.linalg.det(to_aligned[:, :2]))))
    if shrink < 1 / MAX_WARP_SHRINK:
        new = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
        crop_scaling = scaling(new[0] / crop.shape[1], new[1] / crop.shape[0])
        crop = cv2.resize(crop, new, interpolation=cv2.INTER_AREA)
        to_aligned = compose(to_aligned, invert(crop_scaling))
    return AlignedFace(warp_like(crop, to_aligned, size), transform_points(points, matrix), matrix)


def segmentation_view(
    image: np.ndarray, to_aligned: np.ndarray, size: int, max_side: int = SEGMENTATION_SIDE
) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``image`` that the person segmentation looks at, shrunk (area averaging) to at most
    ``max_side`` pixels, and its map into the aligned square.

    :func:`~apd_lightning.faces.aligned_person_mask` segments the square around the aligned image's footprint;
    MediaPipe sees it at 256 px whatever its size, but converting a large view costs more than the models (about
    0.09 instead of 0.04 CPU seconds for a 1100-pixel view here). The view is that square plus a 10 % margin,
    clipped to the image, so the mask is the same as from the whole image.

    Args:
        image: ``(H, W, 3)`` uint8 RGB, the decoded photo.
        to_aligned: ``(2, 3)`` image→aligned map.
        size: side of the aligned square.
        max_side: longest side of the returned view.

    Returns:
        ``(view, view_to_aligned)``.
    """
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    points = transform_points(corners, invert(to_aligned))
    half = 0.55 * (points.max(axis=0) - points.min(axis=0)).max() + 4
    cx, cy = points.mean(axis=0)
    x0, y0 = max(0, int(np.floor(cx - half))), max(0, int(np.floor(cy - half)))
    x1, y1 = min(image.shape[1], int(np.ceil(cx + half))), min(image.shape[0], int(np.ceil(cy + half)))
    if x1 <= x0 or y1 <= y0:
        return image, to_aligned
    view = image[y0:y1, x0:x1]
    to_aligned = compose(to_aligned, np.array([[1.0, 0, x0], [0, 1.0, y0]]))
    factor = max_side / max(view.shape[:2])
    if factor < 1:
        new = (max(1, round(view.shape[1] * factor)), max(1, round(view.shape[0] * factor)))
        to_aligned = compose(to_aligned, invert(scaling(new[0] / view.shape[1], new[1] / view.shape[0])))
        view = cv2.resize(view, new, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(view), to_aligned


def warp_back(drawing: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """Carry an aligned drawing into the photo's frame at the photo's full resolution.

    Bicubic; when the photo holds the face at less than 1 / :data:`MAX_WARP_SHRINK` of the model's resolution, the
    drawing is first shrunk by area averaging (thin lines become lighter instead of broken).

    Args:
        drawing: ``(S, S)`` uint8 drawing in the aligned frame.
        matrix: photo→aligned 2×3 map (:attr:`AlignedFace.matrix`).
        width: photo width.
        height: photo height.

    Returns:
        ``(height, width)`` uint8: the drawing where the aligned square reaches, white elsewhere.
    """
    size = drawing.shape[0]
    x0, y0, x1, y1 = footprint(matrix, size, width, height)
    canvas = np.full((height, width), 255, np.uint8)
    if x1 <= x0 or y1 <= y0:
        return canvas
    zoom = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))  # aligned pixels per photo pixel
    if zoom > MAX_WARP_SHRINK:
        side = max(1, round(size / zoom))
        drawing = cv2.resize(drawing, (side, side), interpolation=cv2.INTER_AREA)
        matrix = compose(scaling(side / size, side / size), matrix)  # photo -> the shrunk square
    to_aligned = compose(matrix, np.array([[1.0, 0, x0], [0, 1.0, y0]]))  # canvas box -> aligned
    canvas[y0:y1, x0:x1] = cv2.warpAffine(
        drawing,
        to_aligned,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    return canvas
