"""Losses of the quality regressor M: regression to the ratings plus a pairwise ranking hinge."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def pairwise_ranking_loss(pred: Tensor, target: Tensor, margin: float = 0.0) -> Tensor:
    """Mean hinge ``max(0, margin − (pred_i − pred_j))`` over all pairs with ``target_i > target_j``.

    Args:
        pred: ``(B,)`` predicted scores.
        target: ``(B,)`` ratings.
        margin: required score gap of correctly ordered pairs.

    Returns:
        Scalar; 0 when the batch has no ordered pair.
    """
    if pred.shape != target.shape or pred.ndim != 1:
        raise ValueError(f"pred and target must both be (B,), got {tuple(pred.shape)}, {tuple(target.shape)}")
    ordered = target[:, None] > target[None, :]
    if not ordered.any():
        return pred.sum() * 0
    gaps = pred[:, None] - pred[None, :]
    return F.relu(margin - gaps[ordered]).mean()


def quality_losses(
    pred: Tensor, target: Tensor, lambda_rank: float = 0.0, rank_margin: float = 0.0
) -> dict[str, Tensor]:
    """MSE regression plus the weighted pairwise ranking term; ``total`` is what is minimised.

    Args:
        pred: ``(B,)`` predicted scores.
        target: ``(B,)`` ratings.
        lambda_rank: weight of :func:`pairwise_ranking_loss` (0: plain regression, no ``rank`` term).
        rank_margin: its margin, in rating units.

    Returns:
        ``{"mse", ["rank",] "total"}`` scalars.
    """
    losses = {"mse": F.mse_loss(pred, target)}
    if lambda_rank > 0:
        losses["rank"] = lambda_rank * pairwise_ranking_loss(pred, target, rank_margin)
    losses["total"] = sum(losses.values())
    return losses


class PairwiseRankingLoss(nn.Module):
    """Module form of :func:`pairwise_ranking_loss`."""

    def __init__(self, margin: float = 0.0) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return pairwise_ranking_loss(pred, target, self.margin)
