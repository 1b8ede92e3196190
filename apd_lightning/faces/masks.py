"""Masks for the datasets: the person (background) mask of APDrawing and the soft part masks of QMUPD.

* Person mask: a :class:`Segmenter` (MediaPipe selfie segmentation) gives a soft person probability that is
  stored as 8-bit gray, white = person. It is kept soft; the paired dataset thresholds it at 0.5 (``mask2``).
* Part masks (``A_eyes``, ``A_nose``, ``A_lips``): filled convex hulls of face-mesh landmark groups, dilated
  by ``size / 40`` pixels (13 px at 512) so that they fully cover the features, then Gaussian-blurred with
  sigma = radius / 4 for soft edges. The original used a face-parsing net with an unstated dilation; this
  replaces it with the mesh that the alignment already computed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import cv2
import numpy as np

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
        """The dataset's mask file content: ``(H, W)`` uint8 in [0, 255], white = person (soft)."""
        return probability_to_mask(self.segment(image_rgb))

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release the model (no-op by default)."""

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MediaPipeSegmenter(Segmenter):
    """MediaPipe selfie segmentation (legacy ``mp.solutions`` API, model bundled, CPU, offline).

    Args:
        model_selection: 0 = the general 256×256 model (default; suits the square aligned portraits),
            1 = the faster landscape 144×256 model.
    """

    def __init__(self, model_selection: int = 0) -> None:
        try:
            from mediapipe.python.solutions import selfie_segmentation
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(MISSING_MEDIAPIPE) from error
        self._model = selfie_segmentation.SelfieSegmentation(model_selection=model_selection)

    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        image_rgb = check_rgb(image_rgb)
        if self._model is None:
            raise RuntimeError("MediaPipeSegmenter was closed")
        probability = self._model.process(image_rgb).segmentation_mask
        return np.clip(np.asarray(probability, dtype=np.float32), 0.0, 1.0)

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None
