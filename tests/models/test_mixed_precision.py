"""bf16-mixed training and prediction of both models on CPU; the distance transform stays in float32.

(fp16-mixed needs a GPU; it goes through the same code with Lightning's gradient scaler.)
"""

from __future__ import annotations

import pytest
import torch

from apd_lightning.data import APDrawingDataModule, UnpairedDataModule
from apd_lightning.data.unpaired import PhotoBatch

from ..conftest import quiet_trainer, tiny_apdrawinggan
from ..qmupd.conftest import tiny_module, write_unpaired_root

pytestmark = pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}


def _changed(before: dict, module: torch.nn.Module, prefix: str) -> bool:
    after = module.state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))


def test_apdrawinggan_trains_in_bf16_with_the_distance_transform_in_float32(paired_root):
    torch.manual_seed(0)
    model = tiny_apdrawinggan()
    seen = []
    transform = model.distance_transform

    def spy(image, *args, **kwargs):
        seen.append((image.dtype, torch.is_autocast_enabled("cpu")))
        return transform(image, *args, **kwargs)

    model.distance_transform = spy
    before = _snapshot(model)
    data = APDrawingDataModule(str(paired_root), image_size=64, batch_size=1, num_workers=0)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, precision="bf16-mixed")
    trainer.fit(model, data)
    assert seen and all(entry == (torch.float32, False) for entry in seen)
    losses = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    assert {"train/g_dt_real_to_fake", "train/g_dt_fake_to_real", "train/d_total"} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses["train/g_dt_fake_to_real"] > 0
    assert _changed(before, model, "generator.") and _changed(before, model, "discriminators.")
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay float32


def test_qmupd_trains_in_bf16(tmp_path):
    unpaired_root = write_unpaired_root(tmp_path / "unpaired")
    torch.manual_seed(0)
    model = tiny_module(progress_epochs=2)
    before = _snapshot(model)
    data = UnpairedDataModule(str(unpaired_root), image_size=64, batch_size=1, num_workers=0)
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=1, precision="bf16-mixed")  # epoch 2: truncation on
    trainer.fit(model, data)
    losses = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    assert losses["train/g_truncation"] > 0 and losses["train/g_quality"] > 0
    assert all(torch.isfinite(v) for v in losses.values())
    assert _changed(before, model, "generator.") and _changed(before, model, "reverse_generator.")
    assert _changed(before, model, "discriminators.")


@pytest.mark.parametrize("channels_last", [True, False])
def test_predictions_in_bf16_stay_close_to_float32(channels_last):
    torch.manual_seed(0)
    model = tiny_module(channels_last=channels_last, predict_original_size=False).eval()
    model.on_predict_start()
    batch = PhotoBatch(torch.rand(1, 3, 64, 64) * 2 - 1, ["a"], torch.tensor([[64, 64]]))
    with torch.inference_mode():
        reference = model.predict_step(batch, 0)["drawing"]
        with torch.autocast("cpu", torch.bfloat16):
            mixed = model.predict_step(batch, 0)["drawing"]
    for name, drawing in reference.items():
        difference = (mixed[name].float() - drawing).abs()
        assert difference.mean() < 0.02 and difference.max() < 0.2, name


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
