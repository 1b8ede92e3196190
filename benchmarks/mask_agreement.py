"""Agreement (IoU) of our person masks with a dataset's own masks, on the dataset's aligned photos.

For every image with a mask file ``MASKS/<stem>.png``: detect the face and align it as ``preprocess`` does, make
the person mask as ``preprocess`` writes it (:func:`~apd_lightning.faces.aligned_person_mask`), carry the
dataset's mask into the same aligned frame, and compare both thresholded at 0.5 over the pixels that come from
the image (the border that the re-alignment adds has no mask in the dataset). Two references: ``segment_aligned``
is what ``preprocess`` wrote before (MediaPipe's general model on the aligned photo, white border included, no
cleaning), ``raw`` the general model on the image as given against the mask as given (no processing of ours).
Prints one JSON object::

    python benchmarks/mask_agreement.py --images DIR --masks DIR [--size 512] [--pairs]

Real portraits with masks: the ``dataset/data/test_single`` photos and ``dataset/mask/ALL`` masks of
github.com/yiranran/APDrawingGAN (masks by the portrait segmentation of Shen et al. 2016).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from apd_lightning.data.io import list_images, read_image
from apd_lightning.faces import MediaPipeLandmarker, MediaPipeSegmenter, align_face, aligned_person_mask, warp_like


def iou(a: np.ndarray, b: np.ndarray, where: np.ndarray | bool = True) -> float:
    """Intersection over union of two boolean masks over the pixels ``where`` (1.0 when both are empty)."""
    union = (np.logical_or(a, b) & where).sum()
    return float((np.logical_and(a, b) & where).sum() / union) if union else 1.0


def _summary(scores: dict[str, float]) -> dict:
    values = np.array(list(scores.values()))
    if not len(values):
        return {"mean_iou": None, "worst_iou": None}
    return {
        "mean_iou": round(float(values.mean()), 4),
        "worst_iou": round(float(values.min()), 4),
        "worst": min(scores, key=scores.get),
        "below_0.85": int((values < 0.85).sum()),
    }


def mask_agreement(images: Sequence[Path], mask_dir: Path, size: int, pairs: bool) -> dict:
    """Mean / worst IoU of ``preprocess``'s masks and of the raw segmentation; a JSON-ready dict."""
    ours, aligned_first, raw, no_face, no_mask, seconds = {}, {}, {}, [], [], []
    with MediaPipeLandmarker() as landmarker, MediaPipeSegmenter() as segmenter, MediaPipeSegmenter(0, False) as plain:
        for path in images:
            file = mask_dir / f"{path.stem}.png"
            if not file.is_file():
                no_mask.append(path.name)
                continue
            image = read_image(path, "RGB")
            if pairs:  # photo | drawing: the mask belongs to the left half
                image = np.ascontiguousarray(image[:, : image.shape[1] // 2])
            truth = read_image(file, "L")
            raw[path.name] = iou(plain.segment(image) >= 0.5, truth >= 128)
            faces = landmarker.detect(image)
            if not faces:
                no_face.append(path.name)
                continue
            aligned = align_face(image, faces[0].points5, size)
            start = time.perf_counter()
            mask = aligned_person_mask(image, aligned.matrix, size, segmenter)
            seconds.append(time.perf_counter() - start)
            carried = warp_like(truth, aligned.matrix, size, fill=0, interpolation=cv2.INTER_LINEAR)
            inside = warp_like(np.ones_like(truth), aligned.matrix, size, fill=0, interpolation=cv2.INTER_NEAREST) > 0
            ours[path.name] = iou(mask >= 128, carried >= 128, inside)
            aligned_first[path.name] = iou(plain.segment(aligned.image) >= 0.5, carried >= 128, inside)
    return {
        "images": len(images),
        "with_masks": len(images) - len(no_mask),
        "count": len(ours),
        "no_face": no_face[:20],
        "size": size,
        "preprocess": _summary(ours),
        "segment_aligned": _summary(aligned_first),
        "raw": _summary(raw),
        "mask_seconds_per_image": round(float(np.mean(seconds)), 4) if seconds else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="folder of aligned photos")
    parser.add_argument("--masks", type=Path, required=True, help="folder of <stem>.png person masks (white = person)")
    parser.add_argument("--size", type=int, default=512, help="side of the aligned frame (default 512)")
    parser.add_argument("--pairs", action="store_true", help="images are photo|drawing pairs; use the left half")
    args = parser.parse_args(argv)
    images = list_images(args.images)
    if not images:
        print(f"no images in {args.images}", file=sys.stderr)
        return 1
    print(json.dumps(mask_agreement(images, args.masks, args.size, args.pairs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
