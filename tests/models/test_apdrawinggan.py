"""The APDrawingGAN LightningModule: one G + D step, loss weights, inference norm, bf16, channels-last, and
(slow) that the demo fit learns."""

from pathlib import Path

import pytest
import torch

from apd_lightning.cli import main
from apd_lightning.data import APDrawingDataModule, PairedBatch
from apd_lightning.data.demo import make_demo_data
from apd_lightning.metrics import ChamferDistance
from apd_lightning.models import APDrawingGAN
from apd_lightning.nets import HierarchicalGenerator
from apd_lightning.ops.distance_transform import drawing_distance_maps
from tests.builders import (
    ROOT,
    assert_finite_gradients,
    assert_total_is_the_sum,
    changed,
    float_state,
    quiet_trainer,
    tiny_apdrawinggan,
)


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
    assert_finite_gradients(module.discriminators.named_parameters(), nonzero_biases=True)
    assert all(p.grad is None for p in module.generator.parameters())  # the D step sees a detached fake
    module.zero_grad()
    g_losses = module.generator_loss(batch, output)
    g_losses["g_total"].backward()
    assert_finite_gradients(module.generator.named_parameters(), nonzero_biases=True)
    names = {"g_adv", "g_local_adv", "g_l1", "g_local", "g_dt_real_to_fake", "g_dt_fake_to_real"}
    assert_total_is_the_sum(g_losses, names, "g_total")


def test_the_distance_transform_backend_is_the_models_own_argument():
    batch = _batch()
    assert tiny_apdrawinggan().distance_transform.backend == "ours"
    kornia = tiny_apdrawinggan(dt_backend="kornia", dt_radius=32)  # the paper config with --model.dt_backend kornia
    assert (kornia.distance_transform.backend, kornia.distance_transform.radius) == ("kornia", None)
    ours = tiny_apdrawinggan(dt_radius=4)
    ours.load_state_dict(kornia.state_dict())
    kornia.eval(), ours.eval()
    with torch.no_grad():
        terms = [
            m.generator_loss(batch, m.generator(batch.photo, batch.landmarks, batch.background_mask))
            for m in (kornia, ours)
        ]
    assert terms[0]["g_dt_real_to_fake"] != terms[1]["g_dt_real_to_fake"]  # each used its own transform
    assert terms[0]["g_dt_fake_to_real"] == pytest.approx(terms[1]["g_dt_fake_to_real"].item(), rel=1e-6)


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


def test_train_mode_inference_uses_batch_statistics_and_dropout_as_the_original():
    batch = _batch()
    photo, landmarks, mask = batch.photo, batch.landmarks, batch.background_mask
    no_dropout = APDrawingGAN(HierarchicalGenerator(64, 4, 4, 4, dropout=False), tiny_apdrawinggan().discriminators)
    for module in (tiny_apdrawinggan(), no_dropout):
        module.eval()
        with torch.no_grad():
            pair, first = module(photo, landmarks, mask), module(photo[:1], landmarks[:1], mask[:1])
        torch.testing.assert_close(first, pair[:1])  # eval: running statistics, each photo drawn on its own
    module = tiny_apdrawinggan()
    module.hparams.inference_norm = "train"
    module.on_predict_start()
    assert module.generator.training
    drawings = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        with torch.no_grad():
            drawings.append(module(photo, landmarks, mask))
    assert torch.equal(drawings[0], drawings[1]) and (drawings[0] - drawings[2]).abs().max() > 1e-3  # dropout on
    no_dropout.hparams.inference_norm = "train"
    no_dropout.on_predict_start()
    with torch.no_grad():
        pair, first = no_dropout(photo, landmarks, mask), no_dropout(photo[:1], landmarks[:1], mask[:1])
        pair_again = no_dropout(photo, landmarks, mask)
    torch.testing.assert_close(pair_again, pair)  # deterministic without dropout
    assert (first - pair[:1]).abs().max() > 1e-3  # batch statistics: a photo's drawing depends on its batch


def _held_out_chamfer(generator: HierarchicalGenerator, root: Path) -> float:
    dm = APDrawingDataModule(str(root), image_size=128, batch_size=8, num_workers=0)
    dm.setup("validate")
    metric = ChamferDistance()
    generator.eval()
    with torch.no_grad():
        for batch in dm.val_dataloader():
            metric.update(generator(batch.photo, batch.landmarks, batch.background_mask).drawing, batch.drawing)
    return metric.compute().item()


def _demo_generator() -> HierarchicalGenerator:  # the demo overlay's widths
    return HierarchicalGenerator(128, global_channels=16, part_channels=8, fusion_channels=8)


@pytest.mark.slow
def test_demo_fit_halves_the_held_out_chamfer_distance(tmp_path, monkeypatch):
    data = tmp_path / "data"
    make_demo_data(data, size=128, count=100, seed=0, progress=False)
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "fit",
                "-c",
                str(ROOT / "configs/apdrawinggan.yaml"),
                "-c",
                str(ROOT / "configs/demo/apdrawinggan.yaml"),
                "--data.root",
                str(data / "apdrawing"),
                "--data.num_workers",
                "0",
                "--trainer.max_epochs",
                "12",
                "--model.lr_constant_epochs",
                "9",
                "--model.lr_decay_epochs",
                "3",
                "--trainer.check_val_every_n_epoch",
                "12",
                "--trainer.enable_progress_bar",
                "false",
                "--model.channels_last",
                "true",  # one layout on every CPU ("auto" trains channels-first without AVX-512): same rounding
            ]
        )
        == 0
    )
    checkpoint = torch.load(tmp_path / "demo_output/checkpoints/last.ckpt", map_location="cpu", weights_only=True)

    torch.manual_seed(0)
    untrained = _demo_generator()
    trained = _demo_generator()
    trained.load_state_dict(
        {k.removeprefix("generator."): v for k, v in checkpoint["state_dict"].items() if k.startswith("generator.")}
    )
    before = _held_out_chamfer(untrained, data / "apdrawing")
    after = _held_out_chamfer(trained, data / "apdrawing")
    print(f"held-out chamfer distance: untrained {before:.2f} px, trained {after:.2f} px")
    assert after <= 0.5 * before


def test_apdrawinggan_trains_in_bf16_with_the_distance_transform_in_float32(paired_root):
    torch.manual_seed(0)
    model = tiny_apdrawinggan()
    seen = []
    forward = model.distance_transform.forward

    def spy(image):
        seen.append((image.dtype, torch.is_autocast_enabled("cpu")))
        return forward(image)

    model.distance_transform.forward = spy
    before = float_state(model)
    data = APDrawingDataModule(str(paired_root), image_size=64, batch_size=1, num_workers=0)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, precision="bf16-mixed")
    trainer.fit(model, data)
    assert seen and all(entry == (torch.float32, False) for entry in seen)
    losses = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    assert {"train/g_dt_real_to_fake", "train/g_dt_fake_to_real", "train/d_total"} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses["train/g_dt_fake_to_real"] > 0
    assert changed(before, model, "generator.") and changed(before, model, "discriminators.")
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay float32


def test_channels_last_does_not_change_apdrawinggan_outputs():
    torch.manual_seed(0)
    model = tiny_apdrawinggan()
    model.eval()
    photo = torch.rand(1, 3, 64, 64) * 2 - 1
    landmarks = torch.tensor([[[24.0, 31], [39, 31], [32, 39], [26, 46], [38, 46]]])
    mask = torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        expected = model(photo, landmarks, mask)
        model.on_predict_start()
        weight = model.generator.fusion.model[1].weight  # the fusion net's first 7×7 conv
        assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
        torch.testing.assert_close(model(photo, landmarks, mask), expected, atol=1e-5, rtol=0)
