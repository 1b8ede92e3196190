import pytest
import torch

from apd_lightning.data import PairedBatch
from apd_lightning.models.schedules import LinearDecay
from apd_lightning.ops.distance_transform import drawing_distance_maps

from ..conftest import tiny_apdrawinggan


def _batch(size=64, batch=2) -> PairedBatch:
    torch.manual_seed(0)
    drawing = torch.ones(batch, 1, size, size)
    drawing[..., size // 2, :] = -1
    dt = torch.stack([torch.from_numpy(drawing_distance_maps(((d[0] + 1) * 127.5).byte().numpy())) for d in drawing])
    landmarks = torch.tensor([[194.0, 248], [314, 249], [261, 312], [209, 368], [302, 371]]) * size / 512
    mask = torch.zeros(batch, 1, size, size)
    mask[..., 4:, 8:-8] = 1
    return PairedBatch(
        torch.rand(batch, 3, size, size) * 2 - 1,
        landmarks.expand(batch, 5, 2).clone(),
        mask,
        [f"s{i}" for i in range(batch)],
        drawing,
        dt,
    )


def test_every_parameter_gets_a_finite_gradient_in_one_g_and_d_step():
    module, batch = tiny_apdrawinggan(), _batch()
    output = module.generator(batch.photo, batch.landmarks, batch.background_mask)
    d_losses = module.discriminator_loss(batch, output.drawing.detach(), output.layout)
    d_losses["d_total"].backward()
    for name, p in module.discriminators.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in module.generator.parameters())  # the D step sees a detached fake
    module.zero_grad()
    g_losses = module.generator_loss(batch, output)
    g_losses["g_total"].backward()
    for name, p in module.generator.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert set(g_losses) == {
        "g_adv",
        "g_local_adv",
        "g_l1",
        "g_local",
        "g_dt_real_to_fake",
        "g_dt_fake_to_real",
        "g_total",
    }
    assert g_losses["g_total"].item() == pytest.approx(
        sum(v.item() for k, v in g_losses.items() if k != "g_total"), rel=1e-5
    )


def test_loss_weights_scale_their_terms():
    batch = _batch()
    a, b = tiny_apdrawinggan(), tiny_apdrawinggan()
    b.load_state_dict(a.state_dict())
    b.hparams.lambda_l1 = 50.0
    torch.manual_seed(1)
    la = a.generator_loss(batch, a.generator(batch.photo, batch.landmarks, batch.background_mask))
    torch.manual_seed(1)
    lb = b.generator_loss(batch, b.generator(batch.photo, batch.landmarks, batch.background_mask))
    assert lb["g_l1"].item() == pytest.approx(la["g_l1"].item() / 2, rel=1e-5)


def test_linear_decay_rule():
    assert [LinearDecay(300, 0)(e) for e in (0, 299, 500)] == [1.0, 1.0, 1.0]
    rule = LinearDecay(100, 200)
    assert rule(0) == 1.0 and rule(99) == 1.0
    assert rule(100) == pytest.approx(1 - 1 / 201)
    assert rule(199) == pytest.approx(1 - 100 / 201)


def test_train_mode_inference_option_changes_normalisation():
    module, batch = tiny_apdrawinggan(), _batch()
    module.eval()
    with torch.no_grad():
        eval_out = module(batch.photo, batch.landmarks, batch.background_mask)
    module.hparams.inference_norm = "train"
    module.on_predict_start()
    assert module.generator.training
    torch.manual_seed(0)
    with torch.no_grad():
        train_out = module(batch.photo, batch.landmarks, batch.background_mask)
    assert not torch.allclose(eval_out, train_out)
