"""The allocator setting of ``python -m apd_lightning``."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from apd_lightning import runtime


def test_the_setting_can_be_refused_by_environment(monkeypatch):
    monkeypatch.setattr(runtime, "_done", False)
    monkeypatch.setenv("APD_LIGHTNING_MALLOC", "default")
    assert runtime.keep_freed_memory() is False


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_activation_sized_blocks_are_reused_instead_of_faulted_in_again():
    """Allocating and freeing 16–64 MiB tensors (activation sizes at 512²) page-faults far less afterwards."""
    script = (
        "import resource, sys\n"
        "from apd_lightning.runtime import keep_freed_memory\n"
        "applied = keep_freed_memory() if sys.argv[1] == 'on' else False\n"
        "import torch\n"
        "def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "sizes = [2**24, 2**23, 2**22, 2**24]\n"
        "for n in sizes: torch.ones(n)\n"
        "before = faults()\n"
        "for _ in range(3):\n"
        "    for n in sizes: torch.ones(n)\n"
        "print(applied, faults() - before)\n"
    )
    results = {}
    for mode in ("on", "off"):
        out = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True)
        applied, faults = out.stdout.split()
        results[mode] = (applied == "True", int(faults))
    assert results["on"][0] and not results["off"][0]
    pages_allocated = 3 * sum([2**24, 2**23, 2**22, 2**24]) * 4 // 4096
    assert results["off"][1] > pages_allocated // 2  # glibc's default: most blocks are mapped afresh
    assert results["on"][1] < results["off"][1] // 2
