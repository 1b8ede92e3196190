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

import cpu_share
import torch
import yaml

REPO = Path(__file__).resolve().parent.parent


class Timing(NamedTuple):
    wall: float
    cpu: float
    other: float | None = None  # share of the machine other processes used meanwhile (see cpu_share.py)


class CleanPolicy(NamedTuple):
    """Discard a timed call during which others used more than ``threshold`` of the CPU, and repeat it, at most
    ``max_discards`` times per row (after that, unclean calls are kept and the row says so)."""

    threshold: float = 0.05
    max_discards: int = 0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> CleanPolicy:
        return cls(spec.get("clean_threshold", 0.05), spec.get("max_discards", 0))

    def is_clean(self, timing: Timing) -> bool:
        return timing.other is None or timing.other <= self.threshold


class CleanTimes(list):
    """The kept timings of a row plus how many unclean calls were discarded and repeated."""

    def __init__(self, policy: CleanPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.discarded = 0

    def offer(self, timing: Timing) -> None:
        """Keep ``timing``, or discard it if unclean and the row's discard budget allows."""
        if not self.policy.is_clean(timing) and self.discarded < self.policy.max_discards:
            self.discarded += 1
        else:
            self.append(timing)


CONFIGS = REPO / "configs"


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels so wall-clock time covers the work (no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(
    fn: Callable[[], Any], repeats: int, warmup: int = 1, device: str = "cpu", policy: CleanPolicy | None = None
) -> CleanTimes:
    """Run ``fn`` ``warmup`` times untimed, then until ``repeats`` calls are kept (unclean calls are discarded and
    repeated as ``policy`` allows); return the kept calls' timings."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = CleanTimes(policy or CleanPolicy())
    while len(times) < repeats:
        with Stopwatch(device) as watch:
            fn()
        times.offer(watch.timing)
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
        self.machine = cpu_share.snapshot()
        self.start = Timing(time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        wall, cpu = time.perf_counter() - self.start.wall, time.process_time() - self.start.cpu
        self.timing = Timing(wall, cpu, cpu_share.other_share(self.machine, cpu_share.snapshot()))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def summary(times: list[Timing]) -> dict[str, Any]:
    """The timing fields of a row: median wall time (the figure to quote), spread, CPU time, repeats, and how
    clean the kept calls were (``other_cpu_share``: the largest share others used during a kept call;
    ``unclean_kept``: kept calls above the threshold once the discard budget ran out; ``discarded``)."""
    wall = [t.wall for t in times]
    row = {
        "median_s": round(statistics.median(wall), 6),
        "min_s": round(min(wall), 6),
        "max_s": round(max(wall), 6),
        "median_cpu_s": round(statistics.median(t.cpu for t in times), 6),
        "repeats": len(times),
    }
    others = [t.other for t in times if t.other is not None]
    if others:
        row["other_cpu_share"] = max(others)
    if isinstance(times, CleanTimes):
        row["discarded"] = times.discarded
        row["unclean_kept"] = sum(not times.policy.is_clean(t) for t in times)
    return row


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


def bf16_is_native(device: str = "cpu") -> bool:
    """Whether bfloat16 convolutions have fast kernels here (GPUs; CPUs with AVX512-BF16 or AMX). Elsewhere
    oneDNN has none and torch falls back to generic kernels many times slower than float32."""
    if torch.device(device).type == "cuda":
        return True
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


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
    """Write (once) the procedural demo data under ``directory/demo_<size>_<count>``; return its (paired,
    unpaired) roots."""
    from apd_lightning.data.demo import make_demo_data

    root = directory / f"demo_{size}_{count}"
    marker = root / ".complete"
    if not marker.exists():
        make_demo_data(root, size=size, count=count, progress=False)
        marker.touch()
    return root / "apdrawing", root / "unpaired"
