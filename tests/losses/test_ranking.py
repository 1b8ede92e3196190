"""The quality regressor's losses: pairwise ranking hinge and the regression terms."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.losses import PairwiseRankingLoss, pairwise_ranking_loss, quality_losses


def test_pairwise_ranking_loss_known_values():
    target = torch.tensor([1.0, 0.0])
    assert pairwise_ranking_loss(torch.tensor([1.0, 0.0]), target).item() == 0
    assert pairwise_ranking_loss(torch.tensor([0.0, 1.0]), target).item() == pytest.approx(1.0)
    assert pairwise_ranking_loss(torch.tensor([0.2, 0.0]), target, margin=0.5).item() == pytest.approx(0.3)
    tied = torch.tensor([0.3, 0.7], requires_grad=True)
    loss = pairwise_ranking_loss(tied, torch.tensor([0.5, 0.5]))
    loss.backward()
    assert loss.item() == 0 and tied.grad is not None
    with pytest.raises(ValueError, match=r"\(B,\)"):
        pairwise_ranking_loss(torch.zeros(2, 1), torch.zeros(2, 1))
    pred = torch.tensor([0.2, 0.0, 0.9])
    target = torch.tensor([1.0, 0.0, 0.5])
    assert PairwiseRankingLoss(0.5)(pred, target).item() == pytest.approx(
        pairwise_ranking_loss(pred, target, 0.5).item()
    )  # module == function


def test_pairwise_ranking_loss_gradcheck():
    pred = torch.tensor([0.1, 0.9, 0.4, -0.3], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0.8, 0.1, 0.5, 0.2], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: pairwise_ranking_loss(p, target, margin=0.25), (pred,))


def test_quality_losses_terms():
    pred, target = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0])
    losses = quality_losses(pred, target, lambda_rank=2.0, rank_margin=0.0)
    assert losses["mse"].item() == pytest.approx(1.0) and losses["rank"].item() == pytest.approx(2.0)
    assert losses["total"].item() == pytest.approx(3.0)
    assert set(quality_losses(pred, target)) == {"mse", "total"}
