"""UPD's asymmetric cycle: edge images, relaxed and strict cycle losses, the offline LPIPS network."""

from __future__ import annotations

import pytest
import torch
import torchvision

from apd_lightning.losses import (
    build_lpips,
    edge_image,
    relaxed_cycle_loss,
    strict_cycle_loss,
)
from apd_lightning.losses.cycle import RelaxedCycleLoss, alexnet_to_lpips
from apd_lightning.nets import HED
from apd_lightning.weights import MissingWeightsError

pytestmark = pytest.mark.usefixtures("one_thread")


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
