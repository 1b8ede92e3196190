"""Process-level settings that make CPU training faster; nothing here changes results."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc mallopt parameters (malloc.h)
_ENV = "APD_LIGHTNING_MALLOC"
_done = False


def keep_freed_memory() -> bool:
    """Make glibc's allocator reuse freed memory instead of returning big blocks to the system at once.

    By default glibc serves each allocation above 32 MiB (a 64×512×512 float map is 64 MiB) with a fresh
    ``mmap`` and unmaps it on free, so every large activation of every step page-faults its memory in anew: at
    512² that was 15 % of an APDrawingGAN ``bf16-mixed`` step on our 2-core machine (2–4 s of system time per
    three steps). This serves all allocations from the heap and never trims it, like the caching allocators
    (jemalloc, tcmalloc) Intel recommends for PyTorch on CPU; blocks of hundreds of MiB can still be mapped
    afresh (glibc's aligned allocation does not always fit a freed block). The cost: the process keeps its peak
    heap (and some fragmentation, ~10 % higher peak RSS here) until it exits. (Transparent huge pages via
    torch's ``THP_MEM_ALLOC_ENABLE=1`` were slower here.)

    Called by ``python -m apd_lightning``; call it at the top of a notebook or script for the same effect. Set
    ``APD_LIGHTNING_MALLOC=default`` to leave the allocator alone.

    Returns:
        Whether the setting was applied (only with glibc on Linux, once per process).
    """
    global _done
    if _done:
        return True
    if os.environ.get(_ENV, "").lower() == "default" or platform.system() != "Linux":
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _done = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, -1))
    except (OSError, AttributeError):
        return False
    return _done
