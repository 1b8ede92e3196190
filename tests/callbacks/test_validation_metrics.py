"""ValidationMetrics: val/fid, val/kid, val/lpips, val/quality during fit, and nothing in checkpoints."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from apd_lightning.callbacks.validation_metrics import ValidationMetrics
from apd_lightning.data.batches import PairedBatch
from apd_lightning.weights import MissingWeightsError


class TinyDrawer(L.LightningModule):
    """Photo -> drawing with APDrawingGAN's ``forward`` signature."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Conv2d(3, 1, 3, padding=1)
        self.steps = 0

    def forward(self, photo, landmarks, background_mask):
        return torch.tanh(self.net(photo)) * background_mask + (1 - background_mask)

    def training_step(self, batch, batch_idx):
        self.steps += 1
        return F.l1_loss(self(batch.photo, batch.landmarks, batch.background_mask), batch.drawing)

    def validation_step(self, batch, batch_idx):
        fake = self(batch.photo, batch.landmarks, batch.background_mask)
        self.log("val/l1", F.l1_loss(fake, batch.drawing))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def _loader(count: int, seed: int) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    samples = [
        PairedBatch(
            photo=torch.rand(3, 32, 32, generator=generator) * 2 - 1,
            landmarks=torch.rand(5, 2, generator=generator) * 32,
            background_mask=torch.ones(1, 32, 32),
            name=f"s{i}",
            drawing=torch.rand(1, 32, 32, generator=generator) * 2 - 1,
        )
        for i in range(count)
    ]
    return DataLoader(samples, batch_size=4, collate_fn=PairedBatch.collate)


def _fit(callback: ValidationMetrics, tmp_path, max_epochs: int = 1) -> tuple[L.Trainer, TinyDrawer]:
    torch.manual_seed(0)
    model = TinyDrawer()
    trainer = L.Trainer(
        max_epochs=max_epochs,
        limit_train_batches=2,
        accelerator="cpu",
        logger=False,
        callbacks=[callback],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, _loader(8, 0), _loader(8, 1))
    return trainer, model


def test_logs_every_metric_and_keeps_them_out_of_checkpoints(stand_ins, tmp_path):
    callback = ValidationMetrics(inception_path="inc.pth", alexnet_path="alex.pth", quality_path="q.ckpt")
    trainer, model = _fit(callback, tmp_path)
    logged = trainer.callback_metrics
    for key in ("val/fid", "val/kid", "val/kid_std", "val/lpips", "val/quality"):
        assert key in logged and math.isfinite(logged[key].item()), key
    assert logged["val/lpips"] > 0
    assert callback.metrics["kid"].last_subset_size == 8  # the 8 validation drawings, not 1000
    assert stand_ins == {"inception": ["inc.pth"], "alexnet": ["alex.pth"], "quality": ["q.ckpt"]}
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    checkpoint = torch.load(tmp_path / "model.ckpt", weights_only=True)
    assert set(checkpoint["state_dict"]) == set(model.state_dict()) == {"net.weight", "net.bias"}
    states = [state for key, state in checkpoint.get("callbacks", {}).items() if "ValidationMetrics" in key]
    assert all(state == {} for state in states)


def test_fake_and_real_come_from_an_overridable_method(stand_ins, tmp_path):
    class RealAsFake(ValidationMetrics):
        def drawings(self, pl_module, batch):
            return batch.drawing, batch.drawing

    trainer, _ = _fit(RealAsFake(metrics=["fid", "lpips"]), tmp_path)
    assert abs(trainer.callback_metrics["val/fid"].item()) < 1e-3
    assert trainer.callback_metrics["val/lpips"].item() == 0


def test_every_n_epochs_and_sanity_check_skipped(stand_ins, tmp_path):
    callback = ValidationMetrics(metrics=["quality"], every_n_epochs=2)
    updates = []
    callback.drawings = lambda pl_module, batch: updates.append(1) or (batch.drawing, batch.drawing)
    trainer, _ = _fit(callback, tmp_path, max_epochs=1)
    assert "val/quality" not in trainer.callback_metrics and not updates  # epoch 1 of 2, sanity check skipped
    trainer, _ = _fit(callback, tmp_path, max_epochs=2)
    assert "val/quality" in trainer.callback_metrics and len(updates) == 2


def test_missing_weights_fail_before_training(empty_hub, tmp_path):
    model = TinyDrawer()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        callbacks=[ValidationMetrics(["fid"])],
        enable_progress_bar=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
    )
    with pytest.raises(MissingWeightsError, match="pt_inception-2015-12-05-6726825d.pth"):
        trainer.fit(model, _loader(4, 0), _loader(4, 1))
    assert model.steps == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown metric"):
        ValidationMetrics(["fid", "ssim"])
    with pytest.raises(ValueError, match="every_n_epochs"):
        ValidationMetrics(every_n_epochs=0)
