"""Face detection and five-point landmarks: a small :class:`Landmarker` interface and its MediaPipe face mesh.

MediaPipe is imported only when a :class:`MediaPipeLandmarker` is created
(``pip install apd_lightning[faces]``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

#: Face-mesh indices of the five points: the two iris centres (needs ``refine_landmarks``), the nose tip
#: and the two mouth corners. Each pair is put in image-left / image-right order by x
#: (see :func:`points5_from_mesh`).
MESH_IRIS_CENTRES = (468, 473)
MESH_NOSE_TIP = 4
MESH_MOUTH_CORNERS = (61, 291)
#: Landmarks of the refined face mesh (468 + 10 iris points).
MESH_POINT_COUNT = 478
MISSING_MEDIAPIPE = "face preprocessing needs MediaPipe: pip install 'apd_lightning[faces]'"


@dataclass(frozen=True)
class FaceDetection:
    """One detected face.

    Attributes:
        points5: ``(5, 2)`` float64 pixel ``(x, y)`` (0-based): image-left eye, image-right eye, nose tip,
            image-left mouth corner, image-right mouth corner.
        box: ``(x0, y0, x1, y1)`` float pixel box of the face (for the mesh: its landmark extent).
        score: detector confidence in [0, 1], or ``None`` when the backend gives none (the legacy face mesh).
        mesh: ``(N, 2)`` float64 pixel ``(x, y)`` of the full landmark set (N = 478 for the refined
            MediaPipe mesh), or ``None`` for a 5-point-only detector.
    """

    points5: np.ndarray
    box: tuple[float, float, float, float]
    score: float | None = None
    mesh: np.ndarray | None = None

    @property
    def area(self) -> float:
        """Box area in square pixels (used to pick the largest face)."""
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


def points5_from_mesh(mesh: np.ndarray) -> np.ndarray:
    """The five dataset points from a refined MediaPipe mesh.

    Left and right are decided by x in the image (not by the person's left/right), as in MTCNN's output.

    Args:
        mesh: ``(478, 2)`` pixel ``(x, y)``.

    Returns:
        ``(5, 2)`` float64: image-left eye, image-right eye, nose tip, image-left / image-right mouth corner.
    """
    mesh = np.asarray(mesh, dtype=np.float64)
    if mesh.ndim != 2 or mesh.shape[0] < MESH_POINT_COUNT or mesh.shape[1] < 2:
        raise ValueError(f"mesh must have shape ({MESH_POINT_COUNT}, 2) (refined mesh), got {mesh.shape}")
    eyes = mesh[list(MESH_IRIS_CENTRES), :2]
    mouth = mesh[list(MESH_MOUTH_CORNERS), :2]
    eyes = eyes[np.argsort(eyes[:, 0], kind="stable")]
    mouth = mouth[np.argsort(mouth[:, 0], kind="stable")]
    return np.vstack([eyes, mesh[MESH_NOSE_TIP, :2], mouth])


class Landmarker(ABC):
    """Finds faces and their five points in an RGB image. Use as a context manager, or call :meth:`close`.

    Implementations hold their model for the whole run; create one per process, not one per image.
    """

    @abstractmethod
    def detect(self, image_rgb: np.ndarray) -> list[FaceDetection]:
        """Detect faces.

        Args:
            image_rgb: ``(H, W, 3)`` uint8 RGB.

        Returns:
            The faces found, largest box first (empty list when there is none).
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release the model (no-op by default)."""

    def __enter__(self) -> Landmarker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.dtype} {image.shape}")
    return np.ascontiguousarray(image)


class MediaPipeLandmarker(Landmarker):
    """MediaPipe face mesh with iris refinement (legacy ``mp.solutions`` API; models bundled, CPU, offline).

    The face mesh finds faces with a short-range detector that sees the whole image at 128 px, so it misses
    faces smaller than about a tenth of the image (group photos, wide shots). When it finds none, the
    full-range MediaPipe face detector is run on the whole image and the mesh is fitted in a square crop of
    ``crop_scale`` × the box around each detection; those faces carry the detector's score.

    Args:
        max_faces: most faces reported per image (the largest is used downstream).
        min_confidence: face-detector confidence threshold in [0, 1].
        crop_scale: side of the fallback crop relative to the detected box side.

    Example:
        >>> with MediaPipeLandmarker() as landmarker:  # doctest: +SKIP
        ...     faces = landmarker.detect(photo)
        ...     points = faces[0].points5 if faces else None
    """

    def __init__(self, max_faces: int = 5, min_confidence: float = 0.5, crop_scale: float = 2.0) -> None:
        try:
            from mediapipe.python.solutions import face_detection, face_mesh
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(MISSING_MEDIAPIPE) from error
        self.max_faces, self.crop_scale = max_faces, crop_scale
        self._mesh = face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=min_confidence,
        )
        self._detector = face_detection.FaceDetection(
            model_selection=1,  # the full-range (5 m) model
            min_detection_confidence=min_confidence,
        )

    def _meshes(self, image_rgb: np.ndarray) -> list[np.ndarray]:
        height, width = image_rgb.shape[:2]
        result = self._mesh.process(image_rgb)
        # Normalised x·W behaves as a 0-based pixel index (checked by rescaling an image 2× and 3×).
        return [
            np.array([(p.x * width, p.y * height) for p in face.landmark], dtype=np.float64)
            for face in result.multi_face_landmarks or []
        ]

    def _detect_in_crops(self, image_rgb: np.ndarray) -> list[FaceDetection]:
        height, width = image_rgb.shape[:2]
        faces = []
        for detection in (self._detector.process(image_rgb).detections or [])[: self.max_faces]:
            box = detection.location_data.relative_bounding_box
            cx, cy = (box.xmin + box.width / 2) * width, (box.ymin + box.height / 2) * height
            half = max(box.width * width, box.height * height) * self.crop_scale / 2
            x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
            x1, y1 = min(width, int(cx + half) + 1), min(height, int(cy + half) + 1)
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            meshes = self._meshes(np.ascontiguousarray(image_rgb[y0:y1, x0:x1]))
            if not meshes:
                continue
            # The crop may show a neighbour too: keep the mesh nearest to the detection's centre.
            mesh = min(meshes, key=lambda m: np.hypot(*(m.mean(axis=0) + (x0, y0) - (cx, cy))))
            faces.append(_from_mesh(mesh + (x0, y0), float(detection.score[0])))
        return faces

    def detect(self, image_rgb: np.ndarray) -> list[FaceDetection]:
        image_rgb = check_rgb(image_rgb)
        if self._mesh is None:
            raise RuntimeError("MediaPipeLandmarker was closed")
        faces = [_from_mesh(mesh) for mesh in self._meshes(image_rgb)] or self._detect_in_crops(image_rgb)
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._detector.close()
            self._mesh = self._detector = None


def _from_mesh(mesh: np.ndarray, score: float | None = None) -> FaceDetection:
    box = (*mesh.min(axis=0).tolist(), *mesh.max(axis=0).tolist())
    return FaceDetection(points5_from_mesh(mesh), box, score, mesh)
