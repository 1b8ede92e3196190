"""Helpers of the converter tests: the released key lists, random official-shaped weights, plausible weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import Tensor, nn

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: The spec's key list beside the clone (CI) or, failing that, the copy kept under tests/fixtures.
SHARED_KEYS = ROOT.parent / "shared" / "spec" / "official_keys.json"
KEYS_FILE = SHARED_KEYS if SHARED_KEYS.is_file() else FIXTURES / "official_keys.json"
OFFICIAL_KEYS: dict = json.loads(KEYS_FILE.read_text())


def random_state(shapes: dict[str, list[int]], seed: int) -> dict[str, Tensor]:
    """Random float32 tensors of the given shapes; ``num_batches_tracked`` as int64 scalars, as PyTorch saves."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.randint(0, 10**6, (), generator=generator, dtype=torch.long)
        else:
            state[key] = torch.randn(shape, generator=generator)
    return state


def official_state(name: str, seed: int) -> dict:
    """A random state with exactly the released names and shapes (``{net: state}`` for APDrawingGAN files)."""
    spec = OFFICIAL_KEYS[name]
    if name.startswith("apdrawinggan"):
        return {net: random_state(shapes, seed + i) for i, (net, shapes) in enumerate(spec.items())}
    return random_state(spec, seed)


def fill_plausible(net: nn.Module, seed: int) -> nn.Module:
    """Weights that keep activations in range (so outputs are not saturated): fan-in scaled convs, BatchNorm
    affine and running statistics near identity but not equal to it."""
    generator = torch.Generator().manual_seed(seed)

    def rand(shape, low, high):
        return torch.rand(shape, generator=generator) * (high - low) + low

    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
                k = module.weight[0, 0].numel()
                fan_in = module.in_channels * k / (4 if isinstance(module, nn.ConvTranspose2d) else 1)
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * math.sqrt(2 / fan_in))
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.05)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(rand(module.weight.shape, 0.7, 1.3))
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(rand(module.running_var.shape, 0.6, 1.6))
                module.num_batches_tracked.fill_(int(torch.randint(1, 1000, (), generator=generator)))
    return net
