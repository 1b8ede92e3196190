"""Five-point landmark error of the MediaPipe landmarker against a dataset's landmark files.

Detects the 5 points on already-aligned images and compares them with ``LANDMARKS/<stem>.txt``. Errors are
Euclidean distances in pixels, rescaled to an image side of ``--size`` (512 = the papers' resolution).
Prints one JSON object::

    python benchmarks/landmark_error.py --images DIR --landmarks DIR [--size 512] [--pairs]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from apd_lightning.data.io import list_images, read_image, read_landmarks
from apd_lightning.faces import MediaPipeLandmarker

POINT_NAMES = ("left_eye", "right_eye", "nose", "left_mouth", "right_mouth")


def landmark_errors(images: Sequence[Path], landmark_dir: Path, size: int, pairs: bool) -> dict:
    """Detect on each image that has a landmark file; return the summary as a JSON-ready dict."""
    errors, names, no_face, no_file = [], [], [], []
    with MediaPipeLandmarker() as landmarker:
        for path in images:
            file = landmark_dir / f"{path.stem}.txt"
            if not file.is_file():
                no_file.append(path.name)
                continue
            image = read_image(path, "RGB")
            if pairs:  # photo | drawing: the landmarks belong to the left half
                image = np.ascontiguousarray(image[:, : image.shape[1] // 2])
            faces = landmarker.detect(image)
            if not faces:
                no_face.append(path.name)
                continue
            scale = size / image.shape[1]
            errors.append(np.linalg.norm(faces[0].points5 - read_landmarks(file), axis=1) * scale)
            names.append(path.name)
    summary = {
        "images": len(images),
        "with_landmarks": len(images) - len(no_file),
        "count": len(errors),
        "no_face": len(no_face),
        "size": size,
        "mean_px": None,
        "max_px": None,
    }
    if errors:
        table = np.stack(errors)
        summary.update(
            mean_px=round(float(table.mean()), 3),
            max_px=round(float(table.max()), 3),
            per_point_mean_px=dict(zip(POINT_NAMES, table.mean(axis=0).round(3).tolist(), strict=True)),
            worst=names[int(table.max(axis=1).argmax())],
        )
    summary["no_face_files"] = no_face[:20]
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="folder of aligned images")
    parser.add_argument("--landmarks", type=Path, required=True, help="folder of <stem>.txt 5-point files")
    parser.add_argument("--size", type=int, default=512, help="report errors at this side (default 512)")
    parser.add_argument(
        "--pairs", action="store_true", help="images are photo|drawing pairs (APDrawing data/); use the left half"
    )
    args = parser.parse_args(argv)
    images = list_images(args.images)
    if not images:
        print(f"no images in {args.images}", file=sys.stderr)
        return 1
    print(json.dumps(landmark_errors(images, args.landmarks, args.size, args.pairs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
