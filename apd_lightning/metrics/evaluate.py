"""``python -m apd_lightning evaluate``: FID, KID, LPIPS and the quality score of a folder of drawings.

    python -m apd_lightning evaluate --real DIR --fake DIR [--metrics fid,kid,lpips,quality] [--pairs]
        [--inception PATH] [--alexnet PATH] [--quality PATH] [--batch-size N] [--size 299] [--device auto]

Prints one JSON object on stdout (a progress bar goes to stderr). Images are read as grayscale and
bilinearly resized to ``--size``² (no antialiasing, like the Inception's own resize: at 299 the FID
protocol is unchanged), then scaled to [-1, 1] like generated drawings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from ..data.io import image_size, list_images, read_image
from ..weights import MissingWeightsError
from . import suite
from .quality import QualityScore


class EvaluationError(ValueError):
    """A problem with the inputs of ``evaluate``; the message is one line."""


def load_drawings(paths: Sequence[Path], size: int) -> Tensor:
    """Read images as ``(B, 1, size, size)`` grayscale drawings in [-1, 1] (bilinear resize, no antialias)."""
    drawings = []
    for path in paths:
        try:
            pixels = torch.tensor(read_image(path, "L"), dtype=torch.float32)[None, None]
        except Exception as error:  # noqa: BLE001 - any decoding failure becomes one clear line
            raise EvaluationError(f"cannot read {path}: {error}") from error
        if pixels.shape[-2:] != (size, size):
            pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
        drawings.append(pixels[0] / 127.5 - 1)
    return torch.stack(drawings).clamp(-1, 1)


def _folder_images(folder: str | os.PathLike, flag: str) -> list[Path]:
    if not Path(folder).is_dir():
        raise EvaluationError(f"{flag} folder {folder} not found")
    images = list_images(folder)
    if not images:
        raise EvaluationError(f"no images in {flag} folder {folder} (hidden files are ignored)")
    return images


def _by_stem(images: list[Path], flag: str) -> dict[str, Path]:
    stems: dict[str, Path] = {}
    for path in images:
        if path.stem in stems:
            raise EvaluationError(
                f"--pairs: {flag} has two images named {path.stem} ({stems[path.stem].name}, {path.name})"
            )
        stems[path.stem] = path
    return stems


def _shown(names: Sequence[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def pair_images(real: list[Path], fake: list[Path]) -> list[tuple[Path, Path]]:
    """Match real and generated drawings by file name (without extension); sizes must agree.

    Raises:
        EvaluationError: names only in one folder, duplicate names, or a pair of different sizes.
    """
    real_stems, fake_stems = _by_stem(real, "--real"), _by_stem(fake, "--fake")
    only_real = sorted(real_stems.keys() - fake_stems.keys())
    only_fake = sorted(fake_stems.keys() - real_stems.keys())
    if only_real or only_fake:
        raise EvaluationError(
            f"--pairs: file names differ: {len(only_real)} only in --real "
            f"[{_shown(only_real)}], {len(only_fake)} only in --fake [{_shown(only_fake)}]"
        )
    pairs = [(real_stems[stem], fake_stems[stem]) for stem in sorted(real_stems)]
    mismatched = [(r, f, image_size(r), image_size(f)) for r, f in pairs if image_size(r) != image_size(f)]
    if mismatched:
        r, f, (rw, rh), (fw, fh) = mismatched[0]
        raise EvaluationError(
            f"--pairs: {len(mismatched)} pair(s) differ in size, e.g. {r.name} is "
            f"{rw}x{rh} in --real but {f.name} is {fw}x{fh} in --fake"
        )
    return pairs


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def evaluate_folders(
    real_dir: str | os.PathLike,
    fake_dir: str | os.PathLike,
    metrics: Sequence[str] | None = None,
    pairs: bool = False,
    inception_path: str | None = None,
    alexnet_path: str | None = None,
    quality_path: str | None = None,
    batch_size: int = 32,
    size: int = 299,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, float | int]:
    """Compare a folder of generated drawings with a folder of real ones.

    Args:
        metrics: among ``fid, kid, lpips, quality``; default all (``lpips`` only with ``pairs``).
        pairs: the folders hold the same file names (real and generated drawing of each photo); enables LPIPS.
        size: square side the images are resized to before the metric networks.

    Returns:
        ``fid``, ``kid``, ``kid_std``, ``kid_subset_size``, ``lpips``, ``quality`` (mean score of the
        generated drawings), ``quality_real``, and the counts ``num_real``, ``num_fake`` (``num_pairs``).

    Raises:
        EvaluationError: empty or missing folder, too few images, unmatched names or sizes with ``pairs``.
        MissingWeightsError: a metric network's weights are not on disk.
    """
    if metrics is None:
        metrics = [m for m in suite.METRIC_NAMES if pairs or m != "lpips"]
    try:
        metrics = suite.check_metric_names(metrics)
    except ValueError as error:
        raise EvaluationError(str(error)) from error
    if "lpips" in metrics and not pairs:
        raise EvaluationError("lpips compares each generated drawing with its real one: add --pairs")
    if batch_size < 1 or size < 16:
        raise EvaluationError(f"--batch-size must be >= 1 and --size >= 16, got {batch_size} and {size}")
    real, fake = _folder_images(real_dir, "--real"), _folder_images(fake_dir, "--fake")
    if {"fid", "kid"} & set(metrics) and min(len(real), len(fake)) < 2:
        raise EvaluationError(
            f"FID and KID need at least 2 images per folder, got {len(real)} real and {len(fake)} generated"
        )
    matched = pair_images(real, fake) if pairs else None

    built = suite.build_metrics(metrics, inception_path, alexnet_path, quality_path)
    if "quality" in built:
        built["quality_real"] = QualityScore(net=built["quality"].net)
    for metric in built.values():
        metric.to(device)

    def update(drawings: Tensor, is_real: bool) -> None:
        drawings = drawings.to(device)
        for name in ("fid", "kid"):
            if name in built:
                built[name].update(drawings, real=is_real)
        quality = built.get("quality_real" if is_real else "quality")
        if quality is not None:
            quality.update(drawings)

    if matched is not None:
        batches = [("pair", chunk) for chunk in _chunks(matched, batch_size)]
    else:
        batches = [("real", c) for c in _chunks(real, batch_size)]
        batches += [("fake", c) for c in _chunks(fake, batch_size)]
    bar = tqdm(batches, desc="evaluate", unit="batch", file=sys.stderr, disable=not progress)
    with torch.inference_mode():
        for kind, chunk in bar:
            if kind == "pair":
                real_batch = load_drawings([r for r, _ in chunk], size)
                fake_batch = load_drawings([f for _, f in chunk], size)
                update(real_batch, True)
                update(fake_batch, False)
                if "lpips" in built:
                    built["lpips"].update(fake_batch.to(device), real_batch.to(device))
            else:
                update(load_drawings(chunk, size), kind == "real")
        return _results(built, len(real), len(fake), None if matched is None else len(matched))


def _results(built: dict, num_real: int, num_fake: int, num_pairs: int | None) -> dict[str, float | int]:
    results: dict[str, float | int] = {}
    for name, metric in built.items():
        if name == "kid":
            mean, std = metric.compute()
            results.update(kid=float(mean), kid_std=float(std), kid_subset_size=metric.last_subset_size)
        else:
            results[name] = float(metric.compute())
    results.update(num_real=num_real, num_fake=num_fake)
    if num_pairs is not None:
        results["num_pairs"] = num_pairs
    return results


def _parser() -> argparse.ArgumentParser:
    from ..cli import ExamplesHelpFormatter

    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning evaluate",
        description="FID / KID / LPIPS / quality score of generated drawings; "
        "prints one JSON object. Nothing is downloaded.",
        epilog="examples:\n"
        "  python -m apd_lightning evaluate --real test_drawings/ --fake drawings/ --metrics fid,kid "
        "--inception pt_inception-2015-12-05-6726825d.pth\n"
        "  python -m apd_lightning evaluate --real test_drawings/ --fake drawings/ --pairs "
        "--alexnet alexnet-owt-7be5be79.pth --metrics lpips",
        formatter_class=ExamplesHelpFormatter,
    )
    parser.add_argument("--real", required=True, help="folder of real drawings")
    parser.add_argument("--fake", required=True, help="folder of generated drawings")
    parser.add_argument(
        "--metrics",
        default=None,
        help="comma-separated among fid,kid,lpips,quality (default: all; lpips only with --pairs)",
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="both folders hold the same file names; adds LPIPS between matching drawings",
    )
    parser.add_argument(
        "--inception",
        default=None,
        help="FID Inception weights pt_inception-2015-12-05-6726825d.pth (default: torch hub cache)",
    )
    parser.add_argument(
        "--alexnet",
        default=None,
        help="torchvision AlexNet weights alexnet-owt-7be5be79.pth for LPIPS (default: hub cache)",
    )
    parser.add_argument(
        "--quality",
        default=None,
        help="quality regressor checkpoint (train it with configs/quality.yaml; default: "
        "quality.ckpt in the hub cache)",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch (default 32)")
    parser.add_argument("--size", type=int, default=299, help="images are resized to SIZE² (default 299)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: cuda if any)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m apd_lightning evaluate``; errors print one line and return 2."""
    args = _parser().parse_args(argv)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    metrics = None if args.metrics is None else [m.strip() for m in args.metrics.split(",") if m.strip()]
    try:
        results = evaluate_folders(
            args.real,
            args.fake,
            metrics,
            args.pairs,
            args.inception,
            args.alexnet,
            args.quality,
            args.batch_size,
            args.size,
            device,
        )
    except (ValueError, MissingWeightsError) as error:  # bad inputs (EvaluationError) or weights files
        hint = " (or leave that metric out with --metrics)" if isinstance(error, MissingWeightsError) else ""
        print(f"evaluate: error: {' '.join(str(error).split())}{hint}", file=sys.stderr)
        return 2
    print(json.dumps(results))
    return 0
