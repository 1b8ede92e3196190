"""Benchmark suite: prints one JSON object per line (and writes them to ``--json OUT``).

    python benchmarks/run.py [--quick] [--json OUT] [--only NAME,...] [--threads N] [--device cpu|cuda]

Rows: ``dt_forward`` / ``dt_forward_backward`` (``impl`` ours | kornia), ``apdrawinggan_train_iter`` and
``qmupd_train_iter`` (``precision`` 32 | bf16-mixed, with ``peak_rss_mb``), ``apdrawinggan_predict`` and
``qmupd_predict`` (seconds per photo), ``paired_sample_load`` and ``unpaired_sample_load``, ``draw_photo`` (a
12-megapixel JPEG end to end through ``Drawer``, per stage; ``model`` apdrawinggan | qmupd, ``backend``
torch-32 | torch-bf16-mixed | onnx). Models use the
paper widths of ``configs/<model>.yaml`` at 512² (and 256² without ``--quick``), batch 1. Every row runs in a
fresh process (peak RSS per row); ``median_s`` is the median of the timed repeats after a warm-up. A row that
cannot run here says why: ``{"name": ..., "skipped": reason}`` (or ``"error"`` if it crashed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NAMES = (
    "dt_forward",
    "dt_forward_backward",
    "apdrawinggan_train_iter",
    "qmupd_train_iter",
    "apdrawinggan_predict",
    "qmupd_predict",
    "paired_sample_load",
    "unpaired_sample_load",
    "draw_photo",
)
# Timed repeats (quick, full). Kornia's forward+backward takes seconds at 512², so it gets fewer.
REPEATS = {
    "dt_ours": (5, 20),
    "dt_forward_kornia": (3, 10),
    "dt_forward_backward_kornia": (1, 3),
    "train_iter": (3, 5),
    "predict": (3, 10),
    "sample_load": (8, 32),
    "draw_photo": (3, 5),
}


def plan(names: list[str], quick: bool) -> list[dict[str, Any]]:
    """The row specs to run, in order (Kornia before ours so the ours rows can quote the speed-up)."""
    sizes = (512,) if quick else (512, 256)
    pick = 0 if quick else 1
    specs = []
    for name in names:
        if name == "draw_photo":  # the models' own size (512); the photo is 12 megapixels
            specs += [
                {"name": name, "model": model, "backend": backend, "repeats": REPEATS[name][pick]}
                for model in ("apdrawinggan", "qmupd")
                for backend in ("torch-32", "torch-bf16-mixed", "onnx")
            ]
            continue
        for size in sizes:
            if name.startswith("dt_"):
                for impl in ("kornia", "ours"):
                    key = "dt_ours" if impl == "ours" else f"{name}_kornia"
                    spec = {"name": name, "size": size, "impl": impl, "repeats": REPEATS[key][pick]}
                    if impl == "ours":
                        spec["warmup"] = 3  # milliseconds each; lets the allocator settle
                    elif quick and key == "dt_forward_backward_kornia":
                        spec["warmup"] = 0  # one call takes seconds; its first-call overhead is milliseconds
                    specs.append(spec)
            elif name.endswith("_train_iter"):
                for precision in ("32", "bf16-mixed"):
                    # APDrawingGAN's DT loss: ours (the default), plus (full run, fp32) Kornia's for comparison.
                    backends = ("ours", "kornia") if name.startswith("apdrawinggan") else (None,)
                    for backend in backends if precision == "32" and not quick else backends[:1]:
                        spec = {
                            "name": name,
                            "size": size,
                            "precision": precision,
                            "repeats": REPEATS["train_iter"][pick],
                        }
                        specs.append({**spec, "dt_backend": backend} if backend else spec)
            elif name.endswith("_predict"):
                for precision in ("32", "bf16-mixed"):
                    specs.append(
                        {"name": name, "size": size, "precision": precision, "repeats": REPEATS["predict"][pick]}
                    )
            elif size == 512:  # sample loading reads the 512² demo files; its cost hardly depends on the size
                specs.append({"name": name, "size": size, "repeats": REPEATS["sample_load"][pick]})
    return specs


# ---- child: one row ---------------------------------------------------------------------------------------
def run_child(spec: dict[str, Any], device: str, threads: int, data_dir: Path) -> dict[str, Any]:
    from apd_lightning.runtime import keep_freed_memory

    malloc = "keep_freed" if keep_freed_memory() else "default"  # as `python -m apd_lightning` runs
    import torch

    torch.set_num_threads(threads)
    sys.path.insert(0, str(HERE))
    import cases
    from helpers import environment, peak_rss_mb

    fields = {key: value for key, value in spec.items() if key != "repeats"}
    try:
        if spec["name"] == "draw_photo":
            import draw_case

            measured = draw_case.draw_photo_case(spec, spec["repeats"], device, data_dir)
        elif spec["name"].startswith("dt_"):
            measured = cases.dt_case(spec, spec["repeats"], device)
        elif spec["name"].endswith("_train_iter"):
            measured = cases.train_iter_case(spec, spec["repeats"], device, data_dir)
        elif spec["name"].endswith("_predict"):
            measured = cases.predict_case(spec, spec["repeats"], device, data_dir)
        else:
            measured = cases.sample_load_case(spec, spec["repeats"], device, data_dir)
    except cases.Skip as reason:
        return {**fields, "skipped": str(reason)}
    return {**fields, **measured, **environment(device), "malloc": malloc, "peak_rss_mb": peak_rss_mb()}


def run_in_subprocess(
    spec: dict[str, Any], args: argparse.Namespace, data_dir: Path, script: str = __file__, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Run one row in a fresh ``script --child`` process (its own peak RSS); return its JSON row."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        command = [
            sys.executable,
            str(Path(script).resolve()),
            *extra,
            "--child",
            json.dumps(spec),
            "--child-out",
            out.name,
            "--device",
            args.device,
            "--threads",
            str(args.threads),
            "--data-dir",
            str(data_dir),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return {**spec, "error": f"timed out after {args.timeout} s"}
        text = Path(out.name).read_text()
        if done.returncode != 0 or not text:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {**spec, "error": f"exit {done.returncode}: " + " | ".join(tail)}
        return json.loads(text)


def add_clean_options(parser: argparse.ArgumentParser) -> None:
    """``--max-discards`` and ``--clean-threshold``: the discard-and-repeat rule of every timed call."""
    parser.add_argument(
        "--max-discards",
        type=int,
        default=0,
        help="per row: how many timed calls, during which other processes used more than --clean-threshold of "
        "the CPU (/proc/stat), are discarded and repeated (default 0: keep every call, record the share)",
    )
    parser.add_argument("--clean-threshold", type=float, default=0.05, help="other processes' CPU share (0.05)")


def add_speedups(rows: list[dict[str, Any]]) -> None:
    """Ours rows quote Kornia's median of the same name and size from this run."""
    kornia = {(r["name"], r["size"]): r["median_s"] for r in rows if r.get("impl") == "kornia" and "median_s" in r}
    row = rows[-1]
    if row.get("impl") == "ours" and "median_s" in row and (row["name"], row["size"]) in kornia:
        row["speedup_vs_kornia"] = round(kornia[row["name"], row["size"]] / row["median_s"], 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="512² only, few repeats (minutes on 2 cores)")
    parser.add_argument("--json", type=Path, help="also write the JSON lines to this file")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(NAMES)}")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument("--data-dir", type=Path, help="where the demo data is written (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per row")
    add_clean_options(parser)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads is None:
        import torch

        args.threads = torch.get_num_threads()
    if args.child:
        try:
            row = run_child(json.loads(args.child), args.device, args.threads, args.data_dir)
        except Exception:
            traceback.print_exc()
            sys.exit(1)
        Path(args.child_out).write_text(json.dumps(row))
        return

    names = NAMES if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark name(s) {unknown}; choose from {', '.join(NAMES)}")
    with tempfile.TemporaryDirectory(prefix="apd_bench_") as scratch:
        data_dir = args.data_dir or Path(scratch)
        out = open(args.json, "w") if args.json else None  # noqa: SIM115 - written row by row
        rows: list[dict[str, Any]] = []
        try:
            for spec in plan(names, args.quick):
                spec.update(max_discards=args.max_discards, clean_threshold=args.clean_threshold)
                rows.append(run_in_subprocess(spec, args, data_dir))
                add_speedups(rows)
                line = json.dumps(rows[-1])
                print(line, flush=True)
                if out:
                    out.write(line + "\n")
                    out.flush()
        finally:
            if out:
                out.close()


if __name__ == "__main__":
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    main()
