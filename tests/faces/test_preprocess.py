"""FacePreprocessor bookkeeping with stand-in models (no MediaPipe): report rows, exit status, layouts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apd_lightning.data.io import read_landmarks
from apd_lightning.faces import (
    FaceDetection,
    FacePreprocessor,
    Landmarker,
    Segmenter,
    template_points,
    write_report,
)
from apd_lightning.faces.preprocess import exit_status, input_images, summarize


class CentreLandmarker(Landmarker):
    """Pretends every non-flat image shows one face whose 5 points are the 64-px template, scaled."""

    def __init__(self) -> None:
        self.closed = False

    def detect(self, image_rgb: np.ndarray) -> list[FaceDetection]:
        if image_rgb.std() == 0:
            return []
        points = template_points(64) * image_rgb.shape[1] / 64
        return [FaceDetection(points, (0.0, 0.0, 1.0, 1.0), 0.9, None)]

    def close(self) -> None:
        self.closed = True


class HalfSegmenter(Segmenter):
    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        probability = np.zeros(image_rgb.shape[:2], np.float32)
        probability[:, : image_rgb.shape[1] // 2] = 1.0
        return probability


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "a.jpg", "b.png"):
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(folder / name)
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(folder / "c.png")
    (folder / "d.png").write_bytes(b"not an image")
    return folder


def test_rows_cover_every_outcome_and_files_follow_the_layout(tmp_path, photos):
    landmarker = CentreLandmarker()
    with FacePreprocessor(tmp_path / "out", landmarker, HalfSegmenter(), size=64) as preprocessor:
        rows = preprocessor.run(input_images(photos), progress=False)
    assert landmarker.closed
    assert [(r.file, r.status) for r in rows] == [
        ("a.jpg", "processed"),
        ("a.png", "skipped"),
        ("b.png", "processed"),
        ("c.png", "skipped"),
        ("d.png", "failed"),
    ]
    assert rows[1].reason == "same file stem as a.jpg" and rows[3].reason == "no face detected"
    assert rows[4].reason.startswith("UnidentifiedImageError")
    assert exit_status(rows) == 1  # one failure
    assert summarize(rows).splitlines()[0] == "2 processed, 2 skipped, 1 failed"
    out = tmp_path / "out"
    landmarks = read_landmarks(out / "landmark" / "ALL" / "b.txt")
    np.testing.assert_allclose(landmarks, np.round(template_points(64)))
    mask = np.asarray(Image.open(out / "mask" / "ALL" / "b.png"))
    # the segmenter saw the photo (padded to a square), not the aligned image: its half edge moves by a pixel or two
    assert mask.shape == (64, 64) and mask[:, :30].min() == 255 and mask[:, 34:].max() == 0
    report = write_report(rows, out / "report.csv")
    with report.open(newline="") as handle:
        assert next(csv.reader(handle)) == ["file", "status", "reason"]


def test_exit_status_counts_existing_outputs_as_done():
    from apd_lightning.faces import ReportRow
    from apd_lightning.faces.preprocess import EXISTS_REASON

    assert exit_status([ReportRow("a", "skipped", EXISTS_REASON)]) == 0
    assert exit_status([ReportRow("a", "skipped", "no face detected")]) == 1
    assert exit_status([]) == 1


def test_invalid_combinations_raise(tmp_path):
    with pytest.raises(ValueError, match="segmenter"):
        FacePreprocessor(tmp_path, CentreLandmarker(), None, layout="apdrawing")
    with pytest.raises(ValueError, match="apdrawing layout"):
        FacePreprocessor(tmp_path, CentreLandmarker(), None, layout="unpaired", drawings=tmp_path)
    with pytest.raises(FileNotFoundError, match="no drawings"):
        FacePreprocessor(tmp_path, CentreLandmarker(), HalfSegmenter(), drawings=tmp_path)
    with pytest.raises(FileNotFoundError):
        input_images(tmp_path / "missing")


def test_unpaired_layout_needs_a_mesh(tmp_path, photos):
    with FacePreprocessor(tmp_path / "out", CentreLandmarker(), layout="unpaired", size=64) as preprocessor:
        rows = preprocessor.run([photos / "b.png"], progress=False)
    assert rows[0].status == "failed" and "face mesh" in rows[0].reason
