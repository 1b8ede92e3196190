"""QMUPD losses: truncation, style classification, asymmetric cycle, offline LPIPS; and the image pool."""

from __future__ import annotations

import pytest
import torch
import torchvision

from apd_lightning.losses import (
    StyleClassificationLoss,
    Truncation,
    build_lpips,
    edge_image,
    relaxed_cycle_loss,
    strict_cycle_loss,
    style_classification_loss,
    truncate,
)
from apd_lightning.losses.cycle import RelaxedCycleLoss, alexnet_to_lpips
from apd_lightning.models.image_pool import ImagePool
from apd_lightning.nets import HED
from apd_lightning.weights import MissingWeightsError


# ---- truncation -------------------------------------------------------------------------------------------
def test_truncation_has_64_levels_from_minus_one_to_0976():
    levels = truncate(torch.linspace(-1, 1, 100_001)).unique()
    assert len(levels) == 64
    assert levels.min().item() == -1.0 and levels.max().item() == pytest.approx(63 / 31.875 - 1)
    assert levels.max().item() == pytest.approx(0.976, abs=1e-3)
    assert torch.allclose(levels.diff(), torch.full((63,), 1 / 31.875))


def test_truncation_gradient_modes():
    x = (torch.rand(2, 1, 8, 8, dtype=torch.float64) * 2 - 1).requires_grad_()
    detached = truncate(x, gradient="detach")
    assert not detached.requires_grad  # the reference: no gradient reaches G through T
    straight = truncate(x, gradient="straight_through")
    assert torch.equal(straight, detached)  # same values
    (grad,) = torch.autograd.grad((straight * 3).sum(), x)
    assert torch.equal(grad, torch.full_like(x, 3.0))  # identity gradient
    assert torch.equal(Truncation(gradient="straight_through")(x), straight)
    with pytest.raises(ValueError, match="truncation gradient"):
        truncate(x, gradient="round")


# ---- style classification ---------------------------------------------------------------------------------
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


# ---- cycle ------------------------------------------------------------------------------------------------
def _lpips():
    torch.manual_seed(0)
    return build_lpips(random_init=True)


def test_edge_image_is_three_channel_signed():
    torch.manual_seed(0)
    edges = edge_image(torch.rand(2, 3, 32, 32) * 2 - 1, HED(2))
    assert edges.shape == (2, 3, 32, 32) and edges.min() >= -1 and edges.max() <= 1
    assert torch.equal(edges[:, 0], edges[:, 2])
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        edge_image(torch.rand(2, 1, 32, 32), HED(2))


def test_relaxed_cycle_is_zero_for_a_perfect_reconstruction_and_has_gradients():
    torch.manual_seed(0)
    hed, lpips = HED(2), _lpips()
    photo = torch.rand(2, 3, 64, 64) * 2 - 1
    edges = edge_image(photo, hed)
    assert relaxed_cycle_loss(photo, edges, hed, lpips).item() == pytest.approx(0.0, abs=1e-6)
    other = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_()
    loss = relaxed_cycle_loss(other, edges, hed, lpips)
    loss.backward()
    assert loss.item() > 0 and other.grad.abs().sum() > 0  # frozen nets, differentiable inputs
    assert all(p.grad is None for p in [*hed.parameters(), *lpips.parameters()] if not p.requires_grad)
    module = RelaxedCycleLoss(hed, lpips)
    assert module(other, photo).item() == pytest.approx(loss.item(), rel=1e-5)


def test_strict_cycle_is_l1():
    a, b = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    assert strict_cycle_loss(a, b).item() == pytest.approx(0.625)
    with pytest.raises(ValueError, match="same shape"):
        strict_cycle_loss(a, b[..., :1])


def test_lpips_is_torchmetrics_with_local_alexnet_weights(tmp_path):
    torch.manual_seed(0)
    alexnet = {
        k: v for k, v in torchvision.models.alexnet(weights=None).state_dict().items() if k.startswith("features.")
    }  # the classifier is not needed (and large)
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(alexnet, path)
    lpips = build_lpips(alexnet_path=path)
    assert torch.equal(getattr(lpips.net.slice2, "3").weight, alexnet["features.3.weight"])
    assert torch.equal(getattr(lpips.net.slice5, "10").bias, alexnet["features.10.bias"])
    assert set(alexnet_to_lpips(alexnet)) == {k for k in lpips.state_dict() if k.startswith("net.")}
    assert not any(p.requires_grad for p in lpips.parameters())
    lpips.train(True)
    assert not lpips.training  # never leaves eval mode (dropout in the linear layers stays off)
    x, y = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    assert lpips(x, x).abs().max() < 1e-6 and (lpips(x, y) > 0).all()


def test_missing_lpips_files_name_the_file(tmp_path):
    with pytest.raises(MissingWeightsError, match="alexnet-owt-7be5be79.pth"):
        build_lpips(alexnet_path=tmp_path / "alexnet-owt-7be5be79.pth")
    with pytest.raises(MissingWeightsError, match="alex.pth"):
        build_lpips(lpips_path=tmp_path / "alex.pth", random_init=True)


# ---- image pool -------------------------------------------------------------------------------------------
def test_pool_fills_then_mixes_history_keeping_tuples_together():
    import random

    pool = ImagePool(3, rng=random.Random(0))
    first = pool.query(torch.arange(3.0)[:, None], torch.arange(3.0)[:, None] * 10)
    assert torch.equal(first[0][:, 0], torch.arange(3.0)) and len(pool) == 3
    seen_old = False
    for step in range(1, 30):
        values = torch.full((2, 1), 100.0 * step) + torch.arange(2.0)[:, None]
        a, b = pool.query(values, values * 10)
        assert torch.equal(b, a * 10)  # each returned sample comes with its own companions
        seen_old |= bool((a < 100 * step).any())
        assert len(pool) == 3
    assert seen_old and pool.queries == 30


def test_pool_of_size_zero_is_a_pass_through_and_batch_sizes_must_match():
    pool = ImagePool(0)
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    (out,) = pool.query(x)
    assert torch.equal(out, x) and not out.requires_grad
    with pytest.raises(ValueError, match="batch size"):
        ImagePool(2).query(torch.zeros(2, 1), torch.zeros(3, 1))


def test_lpips_linear_layer_file_is_checked_before_the_non_strict_load(tmp_path):
    import pathlib

    import torchmetrics

    from apd_lightning.losses.cycle import build_lpips

    shipped = pathlib.Path(torchmetrics.__file__).parent / "functional/image/lpips_models/alex.pth"
    assert build_lpips(lpips_path=shipped, random_init=True) is not None
    bad = tmp_path / "alex.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)}, bad)
    with pytest.raises(ValueError, match="not an LPIPS v0.1 AlexNet linear-layer file") as info:
        build_lpips(lpips_path=bad, random_init=True)
    assert "lin1.model.1.weight" in str(info.value)
