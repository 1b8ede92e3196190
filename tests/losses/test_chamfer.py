import math

import pytest
import torch

from apd_lightning.losses import ChamferLoss, GANLoss, chamfer_loss, gan_loss
from apd_lightning.ops.distance_transform import drawing_distance_maps


def test_gan_loss_known_values():
    zeros = torch.zeros(2, 1, 3, 3)
    assert gan_loss(zeros, True).item() == pytest.approx(math.log(2))
    assert gan_loss(torch.full((4,), 3.0), True, "lsgan").item() == pytest.approx(4.0)
    assert gan_loss(torch.full((4,), 3.0), False, "lsgan").item() == pytest.approx(9.0)
    assert GANLoss("lsgan")(torch.ones(3), True).item() == 0.0
    with pytest.raises(ValueError, match="unknown GAN mode"):
        gan_loss(zeros, True, "hinge")


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


def test_ground_truth_maps_are_normalised_and_guard_empty_images():
    drawing = torch.full((16, 16), 255, dtype=torch.uint8).numpy()
    drawing[8, 8] = 0
    maps = drawing_distance_maps(drawing)
    assert maps.shape == (2, 16, 16) and maps.min() == 0 and maps.max() == pytest.approx(1.0)
    assert maps[0, 8, 8] == 0 and maps[1, 8, 8] > 0
    blank = drawing_distance_maps(torch.full((16, 16), 255, dtype=torch.uint8).numpy())
    assert (blank[0] == 1).all() and (blank[1] == 0).all()
