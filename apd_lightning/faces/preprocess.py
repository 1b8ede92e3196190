"""Folder preprocessing: detect → 5 points → align to the template → masks → dataset files + a CSV report.

Layouts written under ``out``:

``apdrawing`` (APDrawingGAN, :class:`~apd_lightning.data.APDrawingDataModule`)::

    photos/<stem>.png            aligned photo, RGB (only without --drawings)
    data/<split>/<stem>.png      aligned photo | aligned drawing, RGB, 2·size wide (only with --drawings)
    landmark/ALL/<stem>.txt      5 integer "x y" lines in aligned pixels
    mask/ALL/<stem>.png          person mask, 8-bit gray, soft, white = person (segmented before the warp)

``unpaired`` (QMUPD photo domain; point ``out`` at ``<root>/train`` or ``<root>/test``)::

    A/<stem>.png                 aligned photo, RGB
    A_eyes/ A_nose/ A_lips/      soft part masks, 8-bit gray, same file names
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..data.io import list_images, read_image, write_landmarks
from ..ops.face_parts import REGIONS
from .align import AlignedFace, align_face, transform_points, warp_like
from .landmarks import FaceDetection, Landmarker
from .masks import Segmenter, aligned_person_mask, part_masks

Layout = Literal["apdrawing", "unpaired"]
Status = Literal["processed", "skipped", "failed"]
REPORT_NAME = "preprocess_report.csv"
EXISTS_REASON = "outputs exist (use --overwrite)"


@dataclass(frozen=True)
class ReportRow:
    """One line of ``preprocess_report.csv``: the input file, what happened, and why (may be empty)."""

    file: str
    status: Status
    reason: str = ""


class SkipImage(Exception):
    """An input that is expected to be unusable (no face, no drawing, ...); reported as ``skipped``."""


def _save(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def _drawing_matrix(
    matrix: np.ndarray, photo_shape: tuple[int, ...], drawing_shape: tuple[int, ...], name: str
) -> np.ndarray:
    """The photo's transform for a drawing of the same framing, possibly at another resolution."""
    (ph, pw), (dh, dw) = photo_shape[:2], drawing_shape[:2]
    if abs(dw / dh - pw / ph) > 0.01 * pw / ph:
        raise SkipImage(f"drawing {name} is {dw}x{dh}, photo is {pw}x{ph} (aspect ratios differ)")
    to_photo = np.diag([pw / dw, ph / dh])  # drawing pixels -> photo pixels, then the photo's alignment
    return np.hstack([matrix[:, :2] @ to_photo, matrix[:, 2:]])


class FacePreprocessor:
    """Turns photos (and their drawings) into aligned dataset files. Holds the models for the whole run.

    Args:
        out: output root.
        landmarker: face/landmark detector (closed by :meth:`close`).
        segmenter: person segmenter; required for the ``apdrawing`` layout, unused for ``unpaired``.
        layout: ``"apdrawing"`` or ``"unpaired"`` (see the module docstring).
        size: side of the aligned square.
        drawings: folder of drawings named like the photos (``apdrawing`` only): write A|B training pairs.
        split: folder under ``data/`` for the A|B pairs (``train`` or ``test``).
        overwrite: redo images whose outputs all exist already.
    """

    def __init__(
        self,
        out: Path | str,
        landmarker: Landmarker,
        segmenter: Segmenter | None = None,
        layout: Layout = "apdrawing",
        size: int = 512,
        drawings: Path | str | None = None,
        split: str = "train",
        overwrite: bool = False,
    ) -> None:
        if layout not in ("apdrawing", "unpaired"):
            raise ValueError(f"layout must be 'apdrawing' or 'unpaired', got {layout!r}")
        if layout == "apdrawing" and segmenter is None:
            raise ValueError("the apdrawing layout needs a segmenter for the person masks")
        if layout == "unpaired" and drawings is not None:
            raise ValueError("--drawings pairs photos with drawings: use it with the apdrawing layout")
        if size < 16:
            raise ValueError(f"size must be at least 16, got {size}")
        self.out, self.layout, self.size, self.split = Path(out), layout, size, split
        self.landmarker, self.segmenter, self.overwrite = landmarker, segmenter, overwrite
        self.drawings_dir = None if drawings is None else Path(drawings)
        self.drawings = {} if drawings is None else {p.stem: p for p in list_images(drawings)}
        if drawings is not None and not self.drawings:
            raise FileNotFoundError(f"no drawings found in {drawings}")

    def outputs(self, stem: str) -> dict[str, Path]:
        """Output files of one input, by role; the first one is written last (it marks completion)."""
        if self.layout == "unpaired":
            return {
                "photo": self.out / "A" / f"{stem}.png",
                **{region: self.out / f"A_{region}" / f"{stem}.png" for region in REGIONS},
            }
        main = (self.out / "data" / self.split if self.drawings_dir else self.out / "photos") / f"{stem}.png"
        return {
            "photo": main,
            "landmarks": self.out / "landmark" / "ALL" / f"{stem}.txt",
            "mask": self.out / "mask" / "ALL" / f"{stem}.png",
        }

    def process(self, path: Path) -> str:
        """Preprocess one photo. Returns a note for the report ('' or e.g. the face count).

        Raises:
            SkipImage: expected problems (no face, missing drawing, outputs exist).
        """
        outputs = self.outputs(path.stem)
        if not self.overwrite and all(p.is_file() for p in outputs.values()):
            raise SkipImage(EXISTS_REASON)
        drawing_path = None
        if self.drawings_dir is not None:
            drawing_path = self.drawings.get(path.stem)
            if drawing_path is None:
                raise SkipImage(f"no drawing named {path.stem}.* in {self.drawings_dir}")
        photo = read_image(path, "RGB")
        faces = self.landmarker.detect(photo)
        if not faces:
            raise SkipImage("no face detected")
        face = faces[0]
        aligned = align_face(photo, face.points5, self.size)
        if self.layout == "unpaired":
            self._write_unpaired(aligned, face, outputs)
        else:
            self._write_apdrawing(photo, aligned, drawing_path, outputs)
        return f"{len(faces)} faces found, used the largest" if len(faces) > 1 else ""

    def _write_apdrawing(
        self, photo: np.ndarray, aligned: AlignedFace, drawing_path: Path | None, outputs: dict[str, Path]
    ) -> None:
        image = aligned.image
        if drawing_path is not None:
            drawing = read_image(drawing_path, "RGB")
            matrix = _drawing_matrix(aligned.matrix, photo.shape, drawing.shape, drawing_path.name)
            image = np.hstack([image, warp_like(drawing, matrix, self.size)])
        write_landmarks(outputs["landmarks"], aligned.landmarks)
        _save(aligned_person_mask(photo, aligned.matrix, self.size, self.segmenter), outputs["mask"])
        _save(image, outputs["photo"])

    def _write_unpaired(self, aligned: AlignedFace, face: FaceDetection, outputs: dict[str, Path]) -> None:
        if face.mesh is None:
            raise ValueError("the unpaired layout needs a landmarker that returns a face mesh")
        masks = part_masks(transform_points(face.mesh, aligned.matrix), self.size)
        for part, mask in masks.items():
            _save(mask, outputs[part])
        _save(aligned.image, outputs["photo"])

    def run(self, paths: Iterable[Path], progress: bool = True) -> list[ReportRow]:
        """Process every path; never raises for one bad image (it becomes a ``failed`` row)."""
        rows, seen = [], {}
        paths = list(paths)
        for path in tqdm(paths, desc="preprocess", unit="img", disable=not progress):
            if path.stem in seen:
                rows.append(ReportRow(path.name, "skipped", f"same file stem as {seen[path.stem]}"))
                continue
            seen[path.stem] = path.name
            try:
                rows.append(ReportRow(path.name, "processed", self.process(path)))
            except SkipImage as reason:
                rows.append(ReportRow(path.name, "skipped", str(reason)))
            except Exception as error:  # noqa: BLE001 - reported per image; the run goes on
                rows.append(ReportRow(path.name, "failed", f"{type(error).__name__}: {error}"))
        return rows

    def close(self) -> None:
        """Close the landmarker and the segmenter."""
        self.landmarker.close()
        if self.segmenter is not None:
            self.segmenter.close()

    def __enter__(self) -> FacePreprocessor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def input_images(source: Path | str) -> list[Path]:
    """The photos to process: ``source`` itself if it is a file, else the images directly inside it."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"input {source} does not exist")
    return list_images(source)


def write_report(rows: list[ReportRow], path: Path | str) -> Path:
    """Write the report CSV (columns ``file,status,reason``) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "status", "reason"])
        writer.writerows([row.file, row.status, row.reason] for row in rows)
    return path


def summarize(rows: list[ReportRow]) -> str:
    """Human-readable closing summary: counts per status, then one line per image that was not clean."""
    counts = {status: sum(row.status == status for row in rows) for status in ("processed", "skipped", "failed")}
    lines = [", ".join(f"{count} {status}" for status, count in counts.items())]
    lines += [f"  {row.status:9s} {row.file}: {row.reason}" for row in rows if row.reason]
    return "\n".join(lines)


def exit_status(rows: list[ReportRow]) -> int:
    """0 when no image failed unexpectedly and at least one is done (processed now, or its outputs exist)."""
    done = sum(row.status == "processed" or row.reason == EXISTS_REASON for row in rows)
    return 0 if done and not any(row.status == "failed" for row in rows) else 1
