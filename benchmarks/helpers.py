"""Shared pieces of the benchmark suite: timing, peak memory, models and data built from the YAML configs.

Nothing here is a test: it measures. Each row of ``run.py`` runs in its own process, so ``peak_rss_mb``
(``getrusage`` high-water mark) belongs to that row alone.
"""

from __future__ import annotations

import importlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch
import yaml

REPO = Path(__file__).resolve().parent.parent


class Timing(NamedTuple):
    wall: float
    cpu: float


CONFIGS = REPO / "configs"


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels so wall-clock time covers the work (no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int = 1, device: str = "cpu") -> list[Timing]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; return each timed call's seconds."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        with Stopwatch(device) as watch:
            fn()
        times.append(watch.timing)
    return times


class Stopwatch:
    """Wall-clock and process CPU seconds of a block (after waiting for queued GPU work).

    On a shared machine the CPU time is the steadier figure: with one thread it is about what the wall time
    would be on a quiet machine (with more threads it also counts the threads' busy-waiting).
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.timing = Timing(0.0, 0.0)

    def __enter__(self) -> Stopwatch:
        synchronize(self.device)
        self.start = Timing(time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.timing = Timing(time.perf_counter() - self.start.wall, time.process_time() - self.start.cpu)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def summary(times: list[Timing]) -> dict[str, Any]:
    """The timing fields of a row: median wall time (the figure to quote), spread, CPU time, repeats."""
    wall = [t.wall for t in times]
    return {
        "median_s": round(statistics.median(wall), 6),
        "min_s": round(min(wall), 6),
        "max_s": round(max(wall), 6),
        "median_cpu_s": round(statistics.median(t.cpu for t in times), 6),
        "repeats": len(times),
    }


def environment(device: str) -> dict[str, Any]:
    """Fields every row carries: where it ran and how busy the machine was when it started."""
    return {
        "device": torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        # libgomp's default spin-waiting makes each parallel op wait for descheduled threads when the machine
        # is oversubscribed (about 20 ms per op on the shared 2-core box); "passive" avoids that.
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


# ---- models and data from the configs ---------------------------------------------------------------------
def load_config(name: str) -> dict[str, Any]:
    """``configs/<name>.yaml`` as a dict (the paper settings)."""
    with open(CONFIGS / f"{name}.yaml") as file:
        return yaml.safe_load(file)


def instantiate(node: Any) -> Any:
    """Build ``{"class_path": ..., "init_args": {...}}`` nodes recursively, as LightningCLI does."""
    if isinstance(node, dict) and "class_path" in node:
        module_name, _, class_name = node["class_path"].rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls(**{key: instantiate(value) for key, value in node.get("init_args", {}).items()})
    if isinstance(node, dict):
        return {key: instantiate(value) for key, value in node.items()}
    if isinstance(node, list):
        return [instantiate(value) for value in node]
    return node


def set_everywhere(node: Any, key: str, value: Any) -> None:
    """Set ``key`` in every ``init_args`` of a config tree that has it (e.g. ``image_size`` of every net)."""
    if isinstance(node, dict):
        if key in node.get("init_args", {}):
            node["init_args"][key] = value
        for child in node.values():
            set_everywhere(child, key, value)
    elif isinstance(node, list):
        for child in node:
            set_everywhere(child, key, value)


def build_model(config: str, size: int, **overrides: Any):
    """The LightningModule of ``configs/<config>.yaml`` at paper widths, each ``image_size`` = ``size``."""
    node = load_config(config)["model"]
    set_everywhere(node, "image_size", size)
    node.setdefault("init_args", {}).update(overrides)
    return instantiate(node)


def build_datamodule(config: str, root: Path, size: int, **overrides: Any):
    """The config's datamodule on ``root`` at ``size``, loading in the main process, batch size 1."""
    node = load_config(config)["data"]
    node["init_args"].update(root=str(root), image_size=size, batch_size=1, num_workers=0, **overrides)
    return instantiate(node)


def demo_roots(directory: Path, size: int = 512, count: int = 8) -> tuple[Path, Path]:
    """Write (once) the procedural demo data under ``directory``; return its (paired, unpaired) roots."""
    from apd_lightning.data.demo import make_demo_data

    marker = directory / f".complete_{size}_{count}"
    if not marker.exists():
        make_demo_data(directory, size=size, count=count, progress=False)
        marker.touch()
    return directory / "apdrawing", directory / "unpaired"
