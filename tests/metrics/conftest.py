"""Drawings shared by the FID and KID tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def drawings() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(40, 1, 24, 24, generator=generator) * 2 - 1
    fake = (torch.rand(40, 1, 24, 24, generator=generator) * 1.4 - 0.9).clamp(-1, 1)
    return real, fake
