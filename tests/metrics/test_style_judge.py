"""JudgedStyleAccuracy: the share of drawings a frozen judge assigns to the requested style."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apd_lightning.metrics import JudgedStyleAccuracy


class MeanJudge(nn.Module):
    """Style 0 for light drawings, 2 for dark ones (mean below 0)."""

    def forward(self, drawing):
        dark = (drawing.mean((1, 2, 3)) < 0).float()
        return torch.stack([1 - dark, torch.zeros_like(dark), dark], dim=1)


def test_accuracy_counts_agreements_over_updates_and_resets():
    metric = JudgedStyleAccuracy(MeanJudge())
    light, dark = torch.ones(3, 1, 8, 8), -torch.ones(1, 1, 8, 8)
    metric.update(light, 0)  # 3 right
    metric.update(dark, 0)  # 1 wrong
    metric.update(torch.cat([light[:1], dark]), torch.tensor([2, 2]))  # 1 wrong, 1 right
    assert metric.compute().item() == pytest.approx(4 / 6)
    metric.reset()
    assert metric.compute().item() == 0
    assert not metric.net.training and metric.higher_is_better
    metric.train()
    assert not metric.net.training  # the judge stays frozen
