"""Our steps and the authors' original code side by side, in one run, under one protocol.

    python benchmarks/reference.py --apdrawinggan-repo DIR --qmupd-repo DIR [--quick] [--json OUT]

DIR are clones you made of github.com/yiranran/APDrawingGAN and github.com/yiranran/QMUPD (nothing is
downloaded). Every row runs in a fresh process with ``--threads`` torch threads (2), random weights and the same
512² procedural demo inputs (with landmarks and masks); ``median_s`` is the median of the kept timed calls after
warm-ups, where a call during which other processes used more than ``--clean-threshold`` of the CPU is
discarded and repeated (at most ``--max-discards`` times per row). Groups, in this order, ours and theirs
alternating: ``conv_peak`` (see conv_peak.py), ``apdrawinggan_train_iter``, ``apdrawinggan_predict``,
``qmupd_train_iter``, ``qmupd_predict``. The last line (``"name": "side_by_side"``) holds every ratio of the
run; a Markdown table of it goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (the benchmark directory is not a package; run imports no torch at module level)
from side_by_side import efficiency, side_by_side, table  # noqa: E402

GROUPS = ("conv_peak", "apdrawinggan_train_iter", "apdrawinggan_predict", "qmupd_train_iter", "qmupd_predict")
REPEATS = {"conv_peak": (2, 3), "train_iter": (2, 5), "predict": (3, 10)}  # (quick, full)


def plan(groups: list[str], quick: bool, size: int) -> list[dict[str, Any]]:
    """The rows in run order: within each group ours (fp32, bf16) alternate with the original's variants."""
    pick = 0 if quick else 1
    specs: list[dict[str, Any]] = []
    for group in groups:
        if group == "conv_peak":
            specs.append({"name": group, "size": size, "data_size": size, "repeats": REPEATS["conv_peak"][pick]})
            continue
        kind = "train_iter" if group.endswith("train_iter") else "predict"
        base = {"name": group, "size": size, "data_size": size, "repeats": REPEATS[kind][pick]}
        ours = [{**base, "impl": "ours", "precision": p} for p in ("32", "bf16-mixed")]
        if group == "qmupd_predict":
            ours = [{**row, "styles": 1} for row in ours]  # per style, as the original draws one per call
        variants = ["as_shipped", "eval"] if group == "apdrawinggan_predict" else ["as_shipped"]
        theirs = [
            {**base, "impl": "original", "precision": "32", "variant": v, "malloc": m}
            for m in ("default", "keep_freed")
            for v in variants
        ]
        for i in range(max(len(ours), len(theirs))):
            specs += ([ours[i]] if i < len(ours) else []) + ([theirs[i]] if i < len(theirs) else [])
    return specs


# ---- child: one original row ------------------------------------------------------------------------------
def original_child(spec: dict[str, Any], threads: int, data_dir: Path, repos: dict[str, Path]) -> dict[str, Any]:
    """One row of the authors' code: their allocator as shipped (glibc default) or ours, then time."""
    malloc = "default"
    if spec["malloc"] == "keep_freed":
        from apd_lightning.runtime import keep_freed_memory

        malloc = "keep_freed" if keep_freed_memory() else "default"
    import torch

    torch.set_num_threads(threads)
    from helpers import CleanPolicy, demo_roots, environment, peak_rss_mb, summary, time_calls
    from original_common import inference_step, stub_missing_modules
    from torch.utils.flop_counter import FlopCounterMode

    stubbed = stub_missing_modules()
    prefix, kind = spec["name"].split("_", 1)
    paired, unpaired = demo_roots(data_dir, spec.get("data_size", 512))
    module = __import__(f"original_{prefix}")
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}_", dir=data_dir))
    data, repo = (paired, repos["apdrawinggan"]) if prefix == "apdrawinggan" else (unpaired, repos["qmupd"])
    policy, warmup, repeats = CleanPolicy.from_spec(spec), spec.get("warmup", 1), spec["repeats"]
    if kind == "train_iter":
        model, batches = module.build_training(repo, workdir, data, spec["size"], 8)
        step = module.training_step(model, batches)
    else:
        extra = (spec["variant"] == "eval",) if prefix == "apdrawinggan" else ()
        model, batch = module.build_inference(repo, workdir, data, spec["size"], *extra)
        step = inference_step(model, batch)
    with FlopCounterMode(display=False) as flops:
        step()  # the first warm-up call, counted
    times = time_calls(step, repeats, warmup - 1, "cpu", policy)
    row = summary(times)
    gflop = flops.get_total_flops() / 1e9
    fields = {key: value for key, value in spec.items() if key != "repeats"}
    return {
        **fields,
        **row,
        "batch_size": 1,
        "gflop": round(gflop, 1),
        "gflops_per_s": round(gflop / row["median_s"], 1),
        **environment("cpu"),
        "malloc": malloc,
        "stubbed_modules": stubbed,
        "patches": getattr(module, "PATCHES", []),
        "peak_rss_mb": peak_rss_mb(),
    }


def child(spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    if spec.get("impl") == "original":
        repos = {"apdrawinggan": args.apdrawinggan_repo, "qmupd": args.qmupd_repo}
        return original_child(spec, args.threads, args.data_dir, repos)
    if spec["name"] == "conv_peak":
        from apd_lightning.runtime import keep_freed_memory

        keep_freed_memory()
        import torch

        torch.set_num_threads(args.threads)
        from conv_peak import conv_peak_case
        from helpers import environment, peak_rss_mb

        measured = conv_peak_case(spec, args.data_dir)
        return {**spec, **measured, **environment("cpu"), "peak_rss_mb": peak_rss_mb()}
    return run.run_child(spec, "cpu", args.threads, args.data_dir)


# ---- parent -----------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apdrawinggan-repo", type=Path, help="your clone of yiranran/APDrawingGAN")
    parser.add_argument("--qmupd-repo", type=Path, help="your clone of yiranran/QMUPD")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a check that everything runs)")
    parser.add_argument("--json", type=Path, help="also write the JSON lines to this file")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(GROUPS)}")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of every row (2)")
    parser.add_argument("--size", type=int, default=512, help="image side (512; QMUPD's original needs 512)")
    parser.add_argument("--data-dir", type=Path, help="where the demo data and scratch files go (default: temp)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per row")
    parser.add_argument(
        "--bf16-anyway", action="store_true", help="run the bf16 rows on a CPU without bf16 kernels (slow)"
    )
    run.add_clean_options(parser)
    parser.set_defaults(max_discards=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)  # CPU only: the originals' CPU path
    args = parser.parse_args(argv)
    groups = GROUPS if not args.only else [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {unknown}; choose from {', '.join(GROUPS)}")
    args.groups = [g for g in GROUPS if g in groups]
    needed = {p for g in args.groups if g != "conv_peak" for p in (g.split("_")[0],)}
    for prefix in sorted(needed):
        repo = getattr(args, f"{prefix}_repo")
        if args.child is None and (repo is None or not repo.is_dir()):
            parser.error(f"--{prefix}-repo must be a directory holding your clone of yiranran/{prefix}, got {repo}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        try:
            row = child(json.loads(args.child), args)
        except Exception:
            traceback.print_exc()
            sys.exit(1)
        Path(args.child_out).write_text(json.dumps(row))
        return
    from conv_peak import BF16_SKIP  # torch only in the parent here: children set the allocator before importing it
    from helpers import bf16_is_native

    repos = [
        f"--{p}-repo={getattr(args, f'{p}_repo').resolve()}"
        for p in ("apdrawinggan", "qmupd")
        if getattr(args, f"{p}_repo")
    ]
    with tempfile.TemporaryDirectory(prefix="apd_reference_") as scratch:
        data_dir = (args.data_dir or Path(scratch)).resolve()
        out = open(args.json, "w") if args.json else None  # noqa: SIM115 - written row by row
        rows: list[dict[str, Any]] = []
        try:
            for spec in plan(args.groups, args.quick, args.size):
                spec.update(max_discards=args.max_discards, clean_threshold=args.clean_threshold)
                if args.bf16_anyway:
                    spec["bf16_anyway"] = True
                if spec.get("precision") == "bf16-mixed" and not (args.bf16_anyway or bf16_is_native()):
                    row = {**spec, "skipped": BF16_SKIP}
                else:
                    row = run.run_in_subprocess(spec, args, data_dir, script=__file__, extra=tuple(repos))
                rows.append(efficiency(row, rows))
                _emit(row, out)
            summary_row = side_by_side(rows)
            _emit(summary_row, out)
            print(table(summary_row), file=sys.stderr)
        finally:
            if out:
                out.close()


def _emit(row: dict[str, Any], out) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        out.write(line + "\n")
        out.flush()


if __name__ == "__main__":
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    main()
