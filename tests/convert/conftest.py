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
    files = {"apdrawinggan_net_gen": root / "300_net_gen.pt", "apdrawinggan_net_dis": root / "300_net_dis.pt",
             "qmupd_net_G_A": root / "200_net_G_A.pth", "qmupd_net_G_B": root / "200_net_G_B.pth",
             "qmupd_net_D_A": root / "200_net_D_A.pth"}
    for seed, (name, path) in enumerate(files.items()):
        torch.save(official_state(name, 100 * seed), path,
                   _use_new_zipfile_serialization=name != "apdrawinggan_net_gen")
    return files
