"""Where a step's time goes: torch.profiler over our training step or prediction, grouped by kind of operator.

    python benchmarks/profile_step.py --model apdrawinggan --kind train [--precision 32] [--size 512] [--compile]
    ONEDNN_VERBOSE=1 python benchmarks/profile_step.py ... 2> onednn.log   # oneDNN's own per-primitive log

Prints one JSON object: the profiled steps' wall and CPU seconds, the share of operator self time per
category (convolution forward and backward, normalisation, element-wise, copies and layout, optimizer, ...)
and the 15 operators with the most self time. Self time is per thread summed over the step's threads, so it
adds up to about ``threads ×`` the wall time when the threads are busy; shares compare categories, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CATEGORIES = (  # first match wins; matched against the aten operator name
    ("convolution", ("convolution", "conv2d", "conv_transpose", "mkldnn_conv")),
    ("normalization", ("batch_norm", "instance_norm", "native_norm")),
    ("copy_layout", ("copy_", "clone", "contiguous", "cat", "to_copy", "as_strided", "pad", "reflection")),
    ("optimizer", ("adam", "_foreach")),
    ("reduction", ("sum", "mean", "max", "min", "norm", "var")),
    ("random", ("random_", "bernoulli", "rand")),
    ("elementwise", ("mul", "add", "sub", "div", "relu", "leaky", "tanh", "sigmoid", "where", "threshold",
                     "fill_", "zero_", "abs", "exp", "log", "pow", "sqrt", "clamp", "neg", "lt", "gt", "ge", "le")),
)  # fmt: skip


def category(name: str) -> str:
    short = name.removeprefix("aten::").lower()
    for label, keys in CATEGORIES:
        if any(key in short for key in keys):
            return label
    return "compiled" if "graph" in short or "inductor" in short or "cpp_fused" in short else "other"


class Profiled:
    """torch.profiler over a stretch of steps (``start`` / ``stop`` around them), then a summary."""

    def __init__(self) -> None:
        from torch.profiler import ProfilerActivity, profile

        self.profiler = profile(activities=[ProfilerActivity.CPU])

    def start(self) -> None:
        self.profiler.start()
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.profiler.stop()

    def summary(self, steps: int) -> dict:
        by_category: dict[str, float] = defaultdict(float)
        ops = []
        for event in self.profiler.key_averages():
            if event.self_cpu_time_total > 0:
                by_category[category(event.key)] += event.self_cpu_time_total
                ops.append((event.self_cpu_time_total, event.key, event.count))
        total = sum(by_category.values()) or 1.0
        return {
            "wall_s_per_step": round(self.wall / steps, 3),
            "cpu_s_per_step": round(self.cpu / steps, 3),
            "self_time_share": {k: round(v / total, 3) for k, v in sorted(by_category.items(), key=lambda kv: -kv[1])},
            "top_ops": [
                {"op": key, "self_s_per_step": round(t / 1e6 / steps, 3), "calls_per_step": count // steps}
                for t, key, count in sorted(ops, reverse=True)[:15]
            ],
        }


def profile_prediction(spec: dict, data_dir: Path, steps: int, warmup: int) -> dict:
    import cases

    _, step = cases.build_prediction(spec, "cpu", data_dir)
    for _ in range(warmup):
        step()
    profiled = Profiled()
    profiled.start()
    for _ in range(steps):
        step()
    profiled.stop()
    return profiled.summary(steps)


def profile_training(spec: dict, data_dir: Path, steps: int, warmup: int) -> dict:
    import cases
    import lightning as L
    from torch.utils.data import DataLoader

    model, batches = cases.build_training(spec, "cpu", data_dir, warmup + steps)
    profiled = Profiled()

    class Window(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if batch_idx == warmup:
                profiled.start()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            if batch_idx == warmup + steps - 1:
                profiled.stop()

    trainer = cases.quiet_trainer("cpu", spec["precision"], len(batches), [Window()], data_dir)
    trainer.fit(model, train_dataloaders=DataLoader(batches, batch_size=None))
    return profiled.summary(steps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("apdrawinggan", "qmupd"), required=True)
    parser.add_argument("--kind", choices=("train", "predict"), default="train")
    parser.add_argument("--precision", choices=("32", "bf16-mixed"), default="32")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="profiled steps")
    parser.add_argument("--warmup", type=int, default=2, help="unprofiled steps first")
    parser.add_argument("--compile", action="store_true", help="model.compile: true")
    parser.add_argument("--channels-first", action="store_true", help="model.channels_last: false")
    parser.add_argument("--data-dir", type=Path, help="demo data (default: a temp dir)")
    args = parser.parse_args(argv)
    from apd_lightning.runtime import keep_freed_memory

    keep_freed_memory()
    import torch

    torch.set_num_threads(args.threads)
    spec = {"size": args.size, "precision": args.precision, "compile": args.compile}
    spec["channels_last"] = not args.channels_first
    with tempfile.TemporaryDirectory(prefix="apd_profile_") as scratch:
        data_dir = args.data_dir or Path(scratch)
        if args.kind == "predict":
            result = profile_prediction({**spec, "name": f"{args.model}_predict"}, data_dir, args.repeats, args.warmup)
        else:
            result = profile_training({**spec, "name": f"{args.model}_train_iter"}, data_dir, args.repeats, args.warmup)
    print(json.dumps({**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, **result}))


if __name__ == "__main__":
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    main()
