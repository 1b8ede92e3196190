"""Tiny stand-ins for the metric networks (no weights on disk, CPU, milliseconds) and small image folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor, nn

from apd_lightning.metrics import suite
from apd_lightning.nets.quality import QualityNet


class TinyFeatures(nn.Module):
    """A random conv feature extractor: ``(B, 3, H, W)`` in [0, 1] -> ``(B, 8)``."""

    num_features = 8

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 8, 5, stride=4)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) * 0.3)
            self.conv.bias.copy_(torch.randn(8, generator=generator) * 0.1)

    def forward(self, images: Tensor) -> Tensor:
        return torch.tanh(self.conv(images)).mean(dim=(2, 3)) + images.mean(dim=(1, 2, 3))[:, None]


class TinyLPIPS(nn.Module):
    """LPIPS-shaped stand-in: mean squared difference, ``(B, 1, 1, 1)``."""

    def forward(self, a: Tensor, b: Tensor, normalize: bool = True) -> Tensor:
        return (a - b).square().mean(dim=(1, 2, 3), keepdim=True)


def tiny_quality_net(seed: int = 0) -> QualityNet:
    torch.manual_seed(seed)
    return QualityNet("small", width=4).freeze()


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replace the offline loaders of ``apd_lightning.metrics.suite``; records the paths each was given."""
    calls: dict[str, list] = {"inception": [], "alexnet": [], "quality": []}

    def fake(kind: str, build):
        def load(path=None):
            calls[kind].append(path)
            return build()

        return load

    monkeypatch.setattr(suite, "load_inception_features", fake("inception", TinyFeatures))
    monkeypatch.setattr(suite, "load_lpips_net", fake("alexnet", TinyLPIPS))
    monkeypatch.setattr(suite, "load_quality_net", fake("quality", tiny_quality_net))
    return calls


@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache, so "not found in the hub cache" holds whatever the machine has."""
    hub = tmp_path / "torch_home"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub / "hub"))
    return hub


def random_drawing(rng: np.random.Generator, size: int) -> np.ndarray:
    """White page with a few dark strokes, uint8 ``(size, size)``."""
    image = np.full((size, size), 255, np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        row, col = rng.integers(0, size - 8, 2)
        image[row : row + int(rng.integers(2, 8)), col : col + int(rng.integers(8, size // 2))] = 0
    return image


def write_drawings(folder: Path, count: int, size: int = 32, seed: int = 0, prefix: str = "img") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:02d}.png"
        Image.fromarray(random_drawing(rng, size), "L").save(path)
        paths.append(path)
    return paths
