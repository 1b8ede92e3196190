"""Face preprocessing: MediaPipe detection, 5-point landmarks, alignment to the 512 template, masks.

The alignment functions are pure numpy/OpenCV; MediaPipe is imported only when a ``MediaPipe*`` class is
created. Command line: ``python -m apd_lightning preprocess INPUT OUTPUT`` (see :mod:`.cli`).
"""

from .align import (
    TEMPLATE_480,
    TEMPLATE_512,
    AlignedFace,
    align_face,
    fit_similarity,
    template_points,
    transform_points,
    warp_like,
)
from .landmarks import FaceDetection, Landmarker, MediaPipeLandmarker, points5_from_mesh
from .masks import (
    MESH_PARTS,
    MediaPipeSegmenter,
    Segmenter,
    aligned_person_mask,
    clean_person_mask,
    part_mask,
    part_masks,
    probability_to_mask,
)
from .preprocess import FacePreprocessor, ReportRow, input_images, summarize, write_report

__all__ = [
    "MESH_PARTS",
    "TEMPLATE_480",
    "TEMPLATE_512",
    "AlignedFace",
    "FaceDetection",
    "FacePreprocessor",
    "Landmarker",
    "MediaPipeLandmarker",
    "MediaPipeSegmenter",
    "ReportRow",
    "Segmenter",
    "align_face",
    "aligned_person_mask",
    "clean_person_mask",
    "fit_similarity",
    "input_images",
    "part_mask",
    "part_masks",
    "points5_from_mesh",
    "probability_to_mask",
    "summarize",
    "template_points",
    "transform_points",
    "warp_like",
    "write_report",
]
