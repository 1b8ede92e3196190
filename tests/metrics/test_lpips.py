"""LPIPS on drawings, with torchmetrics' LPIPS network built offline (random AlexNet: no weights on disk)."""

from __future__ import annotations

import pytest
import torch
from torchvision.models import alexnet

from apd_lightning.metrics import DrawingLPIPS
from apd_lightning.nets.pretrained import build_lpips


@pytest.fixture(scope="module")
def alexnet_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: v for k, v in alexnet(weights=None).state_dict().items() if k.startswith("features.")}


@pytest.fixture(scope="module")
def lpips_net(alexnet_state):
    return build_lpips(alexnet_state)


def _drawings(seed: int, count: int = 3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, 1, 48, 48, generator=generator) * 2 - 1


def test_identical_drawings_are_at_distance_zero(lpips_net):
    metric = DrawingLPIPS(net=lpips_net)
    drawings = _drawings(0)
    metric.update(drawings, drawings.clone())
    assert metric.compute().item() == pytest.approx(0.0, abs=1e-7)


def test_matches_torchmetrics_network_on_tiled_input(lpips_net):
    pred, target = _drawings(1), _drawings(2)
    metric = DrawingLPIPS(net=lpips_net)
    for i in range(len(pred)):  # per sample == batched
        metric.update(pred[i : i + 1], target[i : i + 1])
    with torch.no_grad():  # the network's own [-1, 1] path, 1 channel repeated by hand
        expected = lpips_net(pred.repeat(1, 3, 1, 1), target.repeat(1, 3, 1, 1), normalize=False).mean()
    assert expected > 0
    assert metric.compute().item() == pytest.approx(expected.item(), rel=1e-5)


def test_states_reduce_across_processes(lpips_net):
    pred, target = _drawings(3, 4), _drawings(4, 4)
    single, first, second = (DrawingLPIPS(net=lpips_net) for _ in range(3))
    single.update(pred, target)
    first.update(pred[:1], target[:1])
    second.update(pred[1:], target[1:])
    first.merge_state(second)
    assert first.compute().item() == pytest.approx(single.compute().item(), rel=1e-6)


def test_loads_alexnet_from_path(tmp_path, alexnet_state, lpips_net):
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(alexnet_state, path)
    pred, target = _drawings(5), _drawings(6)
    loaded, built = DrawingLPIPS(alexnet_path=path), DrawingLPIPS(net=lpips_net)
    for metric in (loaded, built):
        metric.update(pred, target)
    assert loaded.compute().item() == pytest.approx(built.compute().item(), rel=1e-6)
    loaded.train()
    assert not loaded.net.training


def test_shape_mismatch_raises(lpips_net):
    with pytest.raises(ValueError, match="same shape"):
        DrawingLPIPS(net=lpips_net).update(_drawings(0, 2), _drawings(0, 3))
