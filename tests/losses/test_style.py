"""Style classification loss: soft and hard labels."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.losses import (
    StyleClassificationLoss,
    style_classification_loss,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_style_loss_soft_matches_formula_and_hard_uses_argmax():
    torch.manual_seed(0)
    logits, style = torch.randn(4, 3), torch.softmax(torch.randn(4, 3), dim=1)
    expected = -(style * torch.log_softmax(logits, dim=1)).sum(1).mean()  # mean_b Σ_k s_bk CE(logits_b, k)
    assert style_classification_loss(logits, style, soft=True).item() == pytest.approx(expected.item(), rel=1e-6)
    hard = torch.nn.functional.cross_entropy(logits, style.argmax(1))
    assert style_classification_loss(logits, style).item() == pytest.approx(hard.item(), rel=1e-6)
    one_hot = torch.eye(3)[style.argmax(1)]
    assert style_classification_loss(logits, one_hot, soft=True).item() == pytest.approx(hard.item(), rel=1e-6)
    assert StyleClassificationLoss(soft=True)(logits, style).item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        style_classification_loss(logits, style[:, :2])


def test_soft_style_loss_gradcheck():
    logits = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    style = torch.softmax(torch.randn(3, 3, dtype=torch.float64), 1)
    assert torch.autograd.gradcheck(lambda z: style_classification_loss(z, style, soft=True), (logits,))
