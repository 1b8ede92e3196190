"""Fixtures of the converter tests: random weight files with exactly the released names and shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .helpers import official_state


@pytest.fixture(scope="session")
def official_files(tmp_path_factory) -> dict[str, Path]:
    """Random weights with exactly the released names and shapes (paper widths), saved once per session.

    The APDrawingGAN generator file uses PyTorch's legacy (pre-1.6) format, as the 2019 release did.
    """
    root = tmp_path_factory.mktemp("official")
    files = {
        "apdrawinggan_net_gen": root / "300_net_gen.pt",
        "apdrawinggan_net_dis": root / "300_net_dis.pt",
        "qmupd_net_G_A": root / "200_net_G_A.pth",
        "qmupd_net_G_B": root / "200_net_G_B.pth",
        "qmupd_net_D_A": root / "200_net_D_A.pth",
    }
    for seed, (name, path) in enumerate(files.items()):
        torch.save(
            official_state(name, 100 * seed), path, _use_new_zipfile_serialization=name != "apdrawinggan_net_gen"
        )
    return files


@pytest.fixture(scope="session")
def converted(official_files, tmp_path_factory) -> dict[str, Path]:
    """The random official files converted once through the command line (paper widths)."""
    from apd_lightning.cli import main

    out = tmp_path_factory.mktemp("converted")
    paths = {"apdrawinggan": out / "apdrawinggan.ckpt", "qmupd": out / "qmupd.ckpt"}
    sources = {
        "apdrawinggan": ["apdrawinggan_net_gen", "apdrawinggan_net_dis"],
        "qmupd": ["qmupd_net_G_A", "qmupd_net_G_B", "qmupd_net_D_A"],
    }
    for kind, names in sources.items():
        code = main(
            ["convert-weights", "--kind", kind, *(str(official_files[n]) for n in names), "--out", str(paths[kind])]
        )
        assert code == 0
    return paths


@pytest.fixture(scope="session")
def demo512(tmp_path_factory) -> Path:
    """Procedural demo data at 512 px (the converted APDrawingGAN's part boxes need 512): one test portrait."""
    from apd_lightning.data.demo import make_demo_data

    root = tmp_path_factory.mktemp("demo512")
    make_demo_data(root, size=512, count=2, test_fraction=0.5, progress=False)
    return root
