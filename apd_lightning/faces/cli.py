"""``python -m apd_lightning preprocess INPUT OUTPUT [--layout apdrawing|unpaired] [--drawings DIR] ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli import ExamplesHelpFormatter
from .preprocess import REPORT_NAME, FacePreprocessor, exit_status, input_images, summarize, write_report


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``preprocess`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning preprocess",
        description="Detect the largest face (MediaPipe), align its 5 points to the APDrawing 512 template "
        "and write dataset files: aligned photos, landmarks and person masks (apdrawing layout) "
        "or aligned photos and eye/nose/lip masks (unpaired layout). "
        f"A report goes to OUTPUT/{REPORT_NAME}.",
        epilog="examples:\n"
        "  python -m apd_lightning preprocess my_photos/ datasets/mine\n"
        "  python -m apd_lightning preprocess photos/ datasets/mine --drawings drawings/ --split train\n"
        "  python -m apd_lightning preprocess photos/ datasets/upd/train --layout unpaired",
        formatter_class=ExamplesHelpFormatter,
    )
    parser.add_argument("input", type=Path, help="a photo, or a folder of photos (not recursive)")
    parser.add_argument("output", type=Path, help="output root folder")
    parser.add_argument(
        "--layout",
        choices=("apdrawing", "unpaired"),
        default="apdrawing",
        help="apdrawing: photos/ (or data/SPLIT/ A|B pairs), landmark/ALL/, mask/ALL/; "
        "unpaired: A/, A_eyes/, A_nose/, A_lips/ (default: apdrawing)",
    )
    parser.add_argument(
        "--drawings",
        type=Path,
        default=None,
        help="folder of drawings with the photos' file stems: warp each with its photo's "
        "transform and write A|B pairs to OUTPUT/data/SPLIT/ (apdrawing layout)",
    )
    parser.add_argument("--split", default="train", help="folder under OUTPUT/data/ for A|B pairs (default: train)")
    parser.add_argument("--size", type=int, default=512, help="side of the aligned images in px (default: 512)")
    parser.add_argument("--overwrite", action="store_true", help="redo images whose outputs exist")
    parser.add_argument(
        "--max-faces", type=int, default=5, help="faces detected per image; the largest is used (default: 5)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand; returns the exit status (0: something done and nothing failed; 1: otherwise)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.drawings is not None and args.layout != "apdrawing":
        parser.error("--drawings needs --layout apdrawing")
    if not args.input.exists():
        parser.error(f"input {args.input} does not exist")
    paths = input_images(args.input)
    if not paths:
        print(f"no images found in {args.input}", file=sys.stderr)
        return 1

    from .landmarks import MediaPipeLandmarker
    from .masks import MediaPipeSegmenter

    landmarker = MediaPipeLandmarker(max_faces=args.max_faces)
    segmenter = MediaPipeSegmenter() if args.layout == "apdrawing" else None
    try:
        preprocessor = FacePreprocessor(
            args.output,
            landmarker,
            segmenter,
            layout=args.layout,
            size=args.size,
            drawings=args.drawings,
            split=args.split,
            overwrite=args.overwrite,
        )
    except (ValueError, FileNotFoundError) as error:
        landmarker.close()
        if segmenter is not None:
            segmenter.close()
        parser.error(str(error))
    with preprocessor:
        rows = preprocessor.run(paths, progress=not args.no_progress)
    report = write_report(rows, args.output / REPORT_NAME)
    print(summarize(rows))
    print(f"report: {report}")
    return exit_status(rows)
