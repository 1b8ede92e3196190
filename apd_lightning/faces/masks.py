"""Masks for the datasets: the person (background) mask of APDrawing and the soft part masks of QMUPD.

* Person mask (:func:`aligned_person_mask`): a :class:`Segmenter` (MediaPipe selfie segmentation, both models,
  each also on the mirrored image, averaged) gives a soft person probability on the photo *before* the warp, so
  the white border that the warp adds is never judged; the probability is warped into the aligned frame (0
  outside the photo) and cleaned: the largest connected person region with its holes filled. Stored as 8-bit
  gray, white = person, soft edges; the paired dataset thresholds it at 0.5 (``mask2``). The originals ran a
  portrait segmentation net (Shen et al. 2016) on the aligned photo.
* Part masks (``A_eyes``, ``A_nose``, ``A_lips``): filled convex hulls of face-mesh landmark groups, dilated
  by ``size / 40`` pixels (13 px at 512) so that they fully cover the features, then Gaussian-blurred with
  sigma = radius / 4 for soft edges. The original used a face-parsing net with an unstated dilation; this
  replaces it with the mesh that the alignment already computed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import cv2
import numpy as np
from scipy import ndimage

from ..ops.face_parts import REGIONS, FacePart
from .landmarks import MESH_POINT_COUNT, MISSING_MEDIAPIPE, check_rgb

# Landmark groups of the 468/478-point MediaPipe face mesh, read from the FACEMESH_* connection sets of
# mediapipe 0.10.21 (a test checks them against the installed package). Kept here so that the masks do
# not depend on MediaPipe's Python API. "left"/"right" are the subject's, which does not matter here.
_LEFT_EYE = (249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466)
_RIGHT_EYE = (7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246)
_LEFT_BROW = (276, 282, 283, 285, 293, 295, 296, 300, 334, 336)
_RIGHT_BROW = (46, 52, 53, 55, 63, 65, 66, 70, 105, 107)
_LIPS = (
    0,
    13,
    14,
    17,
    37,
    39,
    40,
    61,
    78,
    80,
    81,
    82,
    84,
    87,
    88,
    91,
    95,
    146,
    178,
    181,
    185,
    191,
    267,
    269,
    270,
    291,
    308,
    310,
    311,
    312,
    314,
    317,
    318,
    321,
    324,
    375,
    402,
    405,
    409,
    415,
)
_NOSE = (1, 2, 4, 5, 6, 19, 45, 48, 64, 94, 97, 98, 115, 168, 195, 197, 220, 275, 278, 294, 326, 327, 344, 440)

#: The mesh points of each face part; a part's mask is the convex hull of its points. The eyes include their brows,
#: the mouth is the lips. MediaPipe's "left" is the subject's, i.e. the image-right eye.
MESH_PARTS: dict[FacePart, tuple[int, ...]] = {
    FacePart.EYE_LEFT: _RIGHT_EYE + _RIGHT_BROW,
    FacePart.EYE_RIGHT: _LEFT_EYE + _LEFT_BROW,
    FacePart.NOSE: _NOSE,
    FacePart.MOUTH: _LIPS,
}
#: Default dilation of the part masks, as a fraction of the image side.
PART_DILATION = 1.0 / 40.0


def part_mask(mesh: np.ndarray, region: str, size: int, dilation: float = PART_DILATION) -> np.ndarray:
    """One soft region mask from a face mesh in aligned coordinates: the hulls of the region's parts.

    Args:
        mesh: ``(468 or 478, 2)`` pixel ``(x, y)`` landmarks in the ``size × size`` image.
        region: ``"nose"``, ``"eyes"`` or ``"lips"`` (a key of :data:`~apd_lightning.ops.face_parts.REGIONS`).
        size: side of the square mask.
        dilation: dilation radius as a fraction of ``size`` (0 disables dilation and blur).

    Returns:
        ``(size, size)`` uint8 in [0, 255], 255 on the part, soft (blurred) edges.
    """
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; choose one of {', '.join(REGIONS)}")
    mesh = np.asarray(mesh, dtype=np.float64)
    if mesh.ndim != 2 or mesh.shape[0] < 468 or mesh.shape[1] < 2:
        raise ValueError(f"mesh must have shape (468 or {MESH_POINT_COUNT}, 2), got {mesh.shape}")
    mask = np.zeros((size, size), np.uint8)
    for part in REGIONS[region]:
        hull = cv2.convexHull(np.round(mesh[list(MESH_PARTS[part]), :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_8)
    radius = int(round(size * dilation))
    if radius > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        mask = cv2.dilate(mask, kernel)
        mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=radius / 4.0)
    return mask


def part_masks(mesh: np.ndarray, size: int, dilation: float = PART_DILATION) -> dict[str, np.ndarray]:
    """All region masks, ``{"nose", "eyes", "lips"} -> (size, size) uint8``; see :func:`part_mask`."""
    return {region: part_mask(mesh, region, size, dilation) for region in REGIONS}


def probability_to_mask(probability: np.ndarray) -> np.ndarray:
    """Soft person probability ``(H, W)`` in [0, 1] -> 8-bit mask ``(H, W)`` uint8, 255 = person."""
    probability = np.asarray(probability, dtype=np.float32)
    if probability.ndim != 2:
        raise ValueError(f"probability must have shape (H, W), got {probability.shape}")
    return np.clip(np.round(probability * 255.0), 0, 255).astype(np.uint8)


def clean_person_mask(probability: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Keep the largest connected person region of a soft mask and fill its holes; soft edges stay.

    Args:
        probability: ``(H, W)`` person probability in [0, 1].
        threshold: probability at which a pixel counts as person.

    Returns:
        ``(H, W)`` float32 in [0, 1]: 1 in filled holes, the input elsewhere in the region and in a thin band
        around it (kept below ``threshold``), 0 in every other region and its halo. Thresholding it at
        ``threshold`` gives exactly the filled largest region (8-connected).
    """
    probability = np.asarray(probability, dtype=np.float32)
    if probability.ndim != 2:
        raise ValueError(f"probability must have shape (H, W), got {probability.shape}")
    labels, count = ndimage.label(probability >= threshold, structure=np.ones((3, 3), bool))
    if count == 0:
        return np.zeros_like(probability)
    sizes = np.bincount(labels.ravel())[1:]
    region = ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))
    radius = max(1, round(0.01 * max(probability.shape)))
    near = ndimage.binary_dilation(region, iterations=radius)
    below = np.nextafter(np.float32(threshold), np.float32(0))
    outside = np.where(near, np.minimum(probability, below), 0.0)
    return np.where(region, np.where(probability >= threshold, probability, 1.0), outside).astype(np.float32)


def aligned_person_mask(
    photo: np.ndarray, matrix: np.ndarray, size: int, segmenter: Segmenter, context: float = 1.0
) -> np.ndarray:
    """The person mask of an aligned face, segmented on the photo before the warp, then warped and cleaned.

    The segmenter sees the square around the aligned image's footprint in the photo (its bounding box, made
    square and enlarged ``context`` times; padded by repeating the photo's edge where it leaves the photo):
    the person fills most of the view, at the segmenter's input resolution whatever the photo's size. The
    probability of the photo's own pixels is warped into the aligned frame (bilinear; 0 outside the photo,
    where the aligned photo is white border) and cleaned with :func:`clean_person_mask`.

    Args:
        photo: ``(H, W, 3)`` uint8 RGB, the photo as given (unaligned).
        matrix: ``(2, 3)`` photo→aligned similarity, e.g. :attr:`AlignedFace.matrix`.
        size: side of the aligned square.
        segmenter: person segmenter.
        context: side of the segmented square as a multiple of the footprint's bounding box.

    Returns:
        ``(size, size)`` uint8 in [0, 255], white = person, soft edges.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (2, 3):
        raise ValueError(f"matrix must have shape (2, 3), got {matrix.shape}")
    inverse = cv2.invertAffineTransform(matrix)
    footprint = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) @ inverse[:, :2].T + inverse[:, 2]
    side = context * (footprint.max(axis=0) - footprint.min(axis=0)).max() + 4  # + 2 px for the interpolation
    x0, y0 = np.floor(footprint.mean(axis=0) - side / 2).astype(int)
    side = int(np.ceil(side))
    height, width = photo.shape[:2]
    pad = [max(0, -y0), max(0, y0 + side - height), max(0, -x0), max(0, x0 + side - width)]
    crop = photo[max(0, y0) : y0 + side, max(0, x0) : x0 + side]
    square = cv2.copyMakeBorder(np.ascontiguousarray(crop), *pad, borderType=cv2.BORDER_REPLICATE)
    probability = segmenter.segment(square)[pad[0] : pad[0] + crop.shape[0], pad[2] : pad[2] + crop.shape[1]]
    shifted = matrix.copy()
    shifted[:, 2] += matrix[:, :2] @ np.array([max(0, x0), max(0, y0)], dtype=np.float64)
    warped = cv2.warpAffine(
        np.ascontiguousarray(probability, dtype=np.float32),
        shifted,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return probability_to_mask(clean_person_mask(warped))


class Segmenter(ABC):
    """Person / background segmentation of an RGB image. Use as a context manager, or call :meth:`close`."""

    @abstractmethod
    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        """Person probability.

        Args:
            image_rgb: ``(H, W, 3)`` uint8 RGB.

        Returns:
            ``(H, W)`` float32 in [0, 1], 1 = person (face, hair, body).
        """

    def person_mask(self, image_rgb: np.ndarray) -> np.ndarray:
        """``(H, W)`` uint8 in [0, 255], white = person (soft), segmented on ``image_rgb`` as given and cleaned
        (:func:`clean_person_mask`). For an aligned face prefer :func:`aligned_person_mask` on the photo."""
        return probability_to_mask(clean_person_mask(self.segment(image_rgb)))

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release the model (no-op by default)."""

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MediaPipeSegmenter(Segmenter):
    """MediaPipe selfie segmentation (legacy ``mp.solutions`` API, models bundled, CPU, offline), averaged over
    its models and the mirrored image.

    Args:
        model_selection: one model or several, averaged: 0 = the general 256×256 model, 1 = the landscape
            144×256 model. Default both (on real aligned portraits the average agrees better with the
            APDrawing masks than either model alone).
        mirror: also segment the mirrored image and average (default true).
    """

    def __init__(self, model_selection: int | Sequence[int] = (0, 1), mirror: bool = True) -> None:
        try:
            from mediapipe.python.solutions import selfie_segmentation
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(MISSING_MEDIAPIPE) from error
        selections = [model_selection] if isinstance(model_selection, int) else list(model_selection)
        if not selections or any(s not in (0, 1) for s in selections):
            raise ValueError(f"model_selection must be 0, 1 or a list of them, got {model_selection!r}")
        self._models = [selfie_segmentation.SelfieSegmentation(model_selection=s) for s in selections]
        self.mirror = mirror

    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        image_rgb = check_rgb(image_rgb)
        if not self._models:
            raise RuntimeError("MediaPipeSegmenter was closed")
        views = [image_rgb, np.ascontiguousarray(image_rgb[:, ::-1])] if self.mirror else [image_rgb]
        total = np.zeros(image_rgb.shape[:2], np.float32)
        for model in self._models:
            for k, view in enumerate(views):
                probability = np.asarray(model.process(view).segmentation_mask, dtype=np.float32)
                total += probability[:, ::-1] if k else probability
        return np.clip(total / (len(self._models) * len(views)), 0.0, 1.0)

    def close(self) -> None:
        for model in self._models:
            model.close()
        self._models = []
