"""Learning check (slow): a short demo fit learns style control and the strict backward cycle."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from apd_lightning.data import UnpairedDataModule
from apd_lightning.data.demo import make_demo_data
from apd_lightning.losses import strict_cycle_loss
from apd_lightning.models.qmupd import QMUPD, style_spread
from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator, StyleGenerator

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")]


def _measure(model: QMUPD, batch) -> dict[str, float]:
    """Strict backward cycle L1, one-hot style spread, and how often D's style head reads G(x, e_k) as k."""
    with torch.no_grad():
        cycle = strict_cycle_loss(model.generator(model.reverse_generator(batch.drawing), batch.style), batch.drawing)
        eye = torch.eye(3)
        read = [
            model.discriminators.drawing(model.generator(batch.photo, eye[k].expand(len(batch), -1)))[1]
            for k in range(3)
        ]
        accuracy = sum((logits.argmax(1) == k).float().mean() for k, logits in enumerate(read)) / 3
        return {
            "cycle": cycle.item(),
            "spread": style_spread(model.generator, batch.photo).item(),
            "style_accuracy": accuracy.item(),
        }


def test_short_fit_learns_style_control_and_the_backward_cycle(tmp_path):
    make_demo_data(tmp_path, size=64, count=120, seed=0, progress=False)  # 51 photos, 51 drawings, 3 styles
    L.seed_everything(0)
    data = UnpairedDataModule(str(tmp_path / "unpaired"), image_size=64, batch_size=4, num_workers=0, val_size=12)
    model = QMUPD(
        StyleGenerator(base_channels=8, num_blocks=2),
        ResnetGenerator(base_channels=8, num_blocks=2),
        QMUPDDiscriminators(64, base_channels=8),
        auxiliaries="random_init",
        random_auxiliary_width=4,
        lr=5e-4,
        lr_constant_epochs=22,
        lr_decay_epochs=0,
        progress_epochs=22,
    )
    data.setup("validate")
    batch = next(iter(data.val_dataloader()))
    model.eval()
    before = _measure(model, batch)
    L.Trainer(
        accelerator="cpu",
        max_epochs=22,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    ).fit(model, data)
    model.eval()
    after = _measure(model, batch)
    assert after["cycle"] < 0.5 * before["cycle"], (before, after)
    # style control: the one-hot styles now give clearly different drawings, which D's style head tells apart
    assert after["spread"] > max(0.06, 3 * before["spread"]), (before, after)
    assert after["style_accuracy"] >= 0.5, (before, after)  # chance: 1/3
