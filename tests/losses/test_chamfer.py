"""The distance-transform (chamfer) loss of APDrawingGAN."""

import pytest
import torch

from apd_lightning.losses import ChamferLoss, chamfer_loss
from apd_lightning.ops.distance_transform import drawing_distance_maps


def _line_drawing(size=32, row=16):
    d = torch.ones(1, 1, size, size)
    d[..., row, :] = -1
    dt = torch.from_numpy(drawing_distance_maps(((d[0, 0] + 1) * 127.5).byte().numpy()))[None]
    return d, dt


def test_chamfer_is_small_for_identical_and_grows_with_displacement():
    real, real_dt = _line_drawing()
    same = chamfer_loss(real, real, real_dt)
    near = chamfer_loss(_line_drawing(row=18)[0], real, real_dt)
    far = chamfer_loss(_line_drawing(row=28)[0], real, real_dt)
    for i in range(2):
        assert same[i] < near[i] < far[i]


def test_chamfer_has_gradients_in_both_directions():
    real, real_dt = _line_drawing()
    fake = torch.zeros(1, 1, 32, 32, requires_grad=True)
    a, b = chamfer_loss(fake, real, real_dt)
    (ga,) = torch.autograd.grad(a, fake, retain_graph=True)
    (gb,) = torch.autograd.grad(b, fake)
    assert torch.isfinite(ga).all() and ga.abs().sum() > 0
    assert torch.isfinite(gb).all() and gb.abs().sum() > 0
    # making the fake darker on the real line lowers the real→fake term there
    assert ga[0, 0, 16].mean() > 0  # d/d(fake) > 0: a lower (darker) value reduces the loss


def test_chamfer_module_matches_function_and_checks_shapes():
    real, real_dt = _line_drawing()
    fake = torch.rand(1, 1, 32, 32) * 2 - 1
    a, b = chamfer_loss(fake, real, real_dt)
    assert ChamferLoss(0.1, 0.2)(fake, real, real_dt).item() == pytest.approx((0.1 * a + 0.2 * b).item(), rel=1e-5)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        chamfer_loss(fake.expand(1, 3, 32, 32), real, real_dt)
    with pytest.raises(ValueError, match="real_dt"):
        chamfer_loss(fake, real, real_dt[:, :1])
