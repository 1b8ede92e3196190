"""``python -m apd_lightning draw INPUT... --ckpt CKPT --out DIR``: photos in, drawings out, and a CSV report."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..data.io import IMAGE_SUFFIXES, is_hidden
from .drawer import Drawer, DrawResult, StyleError
from .errors import DrawError, ImageTooLargeError, ModelFileError, NoFaceError, UnreadableImageError
from .photo import DEFAULT_MAX_PIXELS

REPORT_NAME = "draw_report.csv"
EXISTS = "outputs exist (use --overwrite)"
#: zlib level of the written PNGs: 1 is several times faster than PIL's default 6 on photo-sized drawings, and
#: mostly-white drawings compress well at any level.
PNG_COMPRESS_LEVEL = 1


@dataclass
class Row:
    """One line of ``draw_report.csv``."""

    file: str
    status: str  # drawn | skipped | failed
    faces: int = 0
    outputs: str = ""
    reason: str = ""
    seconds: float = 0.0


def find_inputs(inputs: Sequence[str]) -> list[tuple[Path, Path]]:
    """``(photo, output stem relative to DIR)`` pairs: files as given; images found in folders, recursively,
    hidden files and folders ignored, keeping their sub-folders (``DIR/sub/<stem>``)."""
    found = []
    for given in map(Path, inputs):
        if given.is_dir():
            for path in sorted(p for p in given.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
                relative = path.relative_to(given)
                if not is_hidden(relative):
                    found.append((path, relative.with_suffix("")))
        else:
            found.append((given, Path(given.stem)))
    return found


def output_names(stem: Path, styles: Sequence[str], kind: str, face: int | None = None) -> list[Path]:
    """``<stem>.png`` (APDrawingGAN) or ``<stem>_<style>.png`` (QMUPD / UPD); ``face`` k (``--all-faces``)
    inserts ``_face<k>`` after the stem."""
    base = stem.name + (f"_face{face}" if face is not None else "")
    suffixes = [""] if kind == "apdrawinggan" else [f"_{s}" for s in styles]
    return [stem.with_name(f"{base}{suffix}.png") for suffix in suffixes]


def write_png(drawing: np.ndarray, path: Path) -> None:
    """Write atomically (a ``.part`` file renamed into place): an interrupted run leaves no half-written PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    Image.fromarray(drawing, "L").save(partial, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    os.replace(partial, path)


def write_result(result: DrawResult, out: Path, stem: Path, kind: str, all_faces: bool) -> list[Path]:
    """Write every drawing of a result; returns the paths written."""
    written = []
    for k, face in enumerate(result.faces, start=1):
        names = output_names(stem, list(face.drawings), kind, k if all_faces else None)
        for name, drawing in zip(names, face.drawings.values(), strict=True):
            write_png(drawing, out / name)
            written.append(out / name)
    return written


def draw_one(drawer: Drawer, photo: Path, stem: Path, out: Path, args, styles: list[str]) -> Row:
    """Draw one photo into ``out``; expected problems become a ``skipped`` row, never an exception."""
    start = time.perf_counter()
    expected = output_names(stem, styles, drawer.kind, 1 if args.all_faces else None)
    if not args.overwrite and any((out / name).exists() for name in expected):
        return Row(str(photo), "skipped", reason=EXISTS)
    try:
        result = drawer.draw(photo, args.styles, all_faces=args.all_faces, frame=args.frame)
    except NoFaceError:
        return Row(str(photo), "skipped", reason="no face found")
    except (UnreadableImageError, ImageTooLargeError) as error:
        return Row(str(photo), "skipped", reason=str(error).removeprefix(f"{photo.name}: "))
    written = write_result(result, out, stem, drawer.kind, args.all_faces)
    outputs = ";".join(str(p.relative_to(out)) for p in written)
    return Row(str(photo), "drawn", len(result.faces), outputs, seconds=round(time.perf_counter() - start, 3))


def write_report(rows: list[Row], path: Path) -> None:
    """``file,status,faces,outputs,reason,seconds``, one row per input."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "status", "faces", "outputs", "reason", "seconds"])
        writer.writerows([r.file, r.status, r.faces, r.outputs, r.reason, r.seconds] for r in rows)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning draw",
        description="Draw the face in each photo with a trained model; the drawing keeps the photo's own frame "
        "and size (white where the model's aligned square does not reach).",
        epilog="examples:\n"
        "  python -m apd_lightning draw photos/ --ckpt runs/apdrawinggan/checkpoints/last.ckpt --out drawings/\n"
        "  python -m apd_lightning draw me.jpg --ckpt qmupd.ckpt --styles 1,3,0.5:0.5:0 --out drawings/\n"
        "  python -m apd_lightning draw group.jpg --onnx apd.onnx --all-faces --out drawings/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="photos and folders (searched recursively)")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--ckpt", help="checkpoint from `fit` or `convert-weights` (no config file needed)")
    model.add_argument("--onnx", help="model from `python -m apd_lightning export` (run by ONNX Runtime)")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--styles", help="QMUPD/UPD: style numbers and/or vectors, e.g. 1,3 or 2,0.2:0.3:0.5")
    parser.add_argument("--all-faces", action="store_true", help="draw every face: <stem>_face<k>.png")
    parser.add_argument("--frame", choices=("original", "aligned"), default="original", help="default: original")
    parser.add_argument("--overwrite", action="store_true", help="replace existing drawings")
    parser.add_argument("--precision", default="32-true", choices=("32-true", "bf16-mixed"))
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, auto")
    parser.add_argument(
        "--inference-norm",
        choices=("eval", "train"),
        help="APDrawingGAN, --ckpt: BatchNorm/dropout mode (default: the checkpoint's; train for the authors')",
    )
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="largest photo (width × height)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Draw photos: any photo in, a drawing out in the photo's own frame (plus a CSV report)."""
    args = parser().parse_args(argv)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"draw: error: --out {out} is a file, not a folder", file=sys.stderr)
        return 2
    inputs = find_inputs(args.inputs)
    if not inputs:
        print("draw: error: no photos found in " + ", ".join(args.inputs), file=sys.stderr)
        return 2
    try:
        drawer = Drawer(
            args.ckpt,
            onnx=args.onnx,
            device=args.device,
            precision=args.precision,
            max_pixels=args.max_pixels,
            inference_norm=args.inference_norm,
        )
        styles = list(drawer.styles(args.styles))
    except (ModelFileError, StyleError, ValueError) as error:
        print(f"draw: error: {error}", file=sys.stderr)
        return 2
    print(
        f"draw: {drawer.kind} at {drawer.image_size} px from {drawer.source}"
        + (f", styles {', '.join(styles)}" if drawer.style_names else "")
    )
    out.mkdir(parents=True, exist_ok=True)
    with drawer:
        rows = draw_all(drawer, inputs, out, args, styles)
    write_report(rows, out / REPORT_NAME)
    return summarize(rows, out / REPORT_NAME)


def draw_all(drawer: Drawer, inputs: list[tuple[Path, Path]], out: Path, args, styles: list[str]) -> list[Row]:
    """Draw every input with a progress bar; one report row each, whatever happens to it."""
    rows, seen = [], {}
    for photo, stem in tqdm(inputs, desc="draw", unit="photo"):
        if stem in seen:
            rows.append(Row(str(photo), "skipped", reason=f"same output name as {seen[stem]}"))
            continue
        seen[stem] = photo.name
        try:
            rows.append(draw_one(drawer, photo, stem, out, args, styles))
        except (DrawError, OSError, ValueError) as error:
            rows.append(Row(str(photo), "failed", reason=f"{type(error).__name__}: {error}".splitlines()[0]))
    return rows


def summarize(rows: list[Row], report: Path) -> int:
    """Print the counts and every input that was not drawn cleanly; the exit status: 0 when something is done
    (drawn now, or its drawings existed), else 1."""
    counts = {s: sum(r.status == s for r in rows) for s in ("drawn", "skipped", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; report: {report}")
    for row in rows:
        if row.reason:
            print(f"  {row.status:7s} {Path(row.file).name}: {row.reason}")
    done = counts["drawn"] + sum(r.reason == EXISTS for r in rows)
    return 0 if done else 1
