"""How much of the machine other processes used while we measured, read from ``/proc/stat``.

A timed iteration is *clean* when the CPU time spent outside this process (all other processes, the kernel's
interrupt work and, in a VM, time stolen by the hypervisor) stays at or below a threshold (5 % by default) of
the machine's capacity over the iteration's wall time. The benchmarks discard an unclean iteration and repeat
it, up to a cap, and record the discards and the other-CPU share in each JSON row.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system (idle iowait) irq softirq steal; guest is inside user


class CpuSnapshot(NamedTuple):
    """Wall clock, busy CPU seconds of the whole machine, and this process's own CPU seconds."""

    wall: float
    machine_busy: float | None  # None where /proc/stat is unavailable (not Linux)
    own: float


def _machine_busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as file:
            fields = file.readline().split()[1:]
    except OSError:
        return None
    return sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields)) / _TICKS_PER_S


def snapshot() -> CpuSnapshot:
    """The counters now (call before and after the measured block)."""
    times = os.times()
    return CpuSnapshot(time.perf_counter(), _machine_busy_seconds(), times.user + times.system)


def other_share(before: CpuSnapshot, after: CpuSnapshot, cpus: int | None = None) -> float | None:
    """Share of the machine's CPU capacity used by others between two snapshots (0 = quiet, 1 = all of it).

    ``None`` when ``/proc/stat`` is unavailable. The counters tick at ``SC_CLK_TCK`` (usually 100 Hz), so blocks
    shorter than about a second read coarsely; the benchmarks apply it to whole iterations.
    """
    if before.machine_busy is None or after.machine_busy is None:
        return None
    wall = after.wall - before.wall
    if wall <= 0:
        return 0.0
    others = (after.machine_busy - before.machine_busy) - (after.own - before.own)
    capacity = wall * (cpus or os.cpu_count() or 1)
    return round(min(max(others / capacity, 0.0), 1.0), 4)
