"""Learning check (slow): a demo-like QMUPD fit draws held-out photos closer to their true drawings and learns the
strict backward cycle. Style is scored by an independent judge but not asserted: the demo settings do not reach
issue 12's goal (80 % of the drawings read as the requested style) in this time; see the README."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch

from apd_lightning.callbacks import TrueDrawingScores
from apd_lightning.data import UnpairedDataModule
from apd_lightning.data.demo import make_demo_data
from apd_lightning.losses import strict_cycle_loss
from apd_lightning.models.qmupd import QMUPD
from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator, StyleGenerator

pytestmark = pytest.mark.slow

EPOCHS = 16  # configs/demo/qmupd.yaml trains 24 epochs (6 min on 2 cores); the same schedule, compressed


def _demo_like_model() -> QMUPD:
    """The networks and weights of configs/demo/qmupd.yaml."""
    return QMUPD(
        StyleGenerator(base_channels=8, num_blocks=2, style_modulation=True),
        ResnetGenerator(base_channels=8, num_blocks=2),
        QMUPDDiscriminators(64, base_channels=8),
        auxiliaries="classical",
        use_quality_loss=False,
        lr=5e-4,
        lr_constant_epochs=EPOCHS - 4,
        lr_decay_epochs=4,
        progress_epochs=EPOCHS,
    )


def _strict_cycle(model: QMUPD, batch) -> float:
    with torch.no_grad():
        reconstruction = model.generator(model.reverse_generator(batch.drawing), batch.style)
        return strict_cycle_loss(reconstruction, batch.drawing).item()


@pytest.mark.parametrize("seed", [0])  # seed 1 met these bounds too (figures below)
def test_a_demo_like_fit_draws_held_out_photos_closer_to_their_true_drawings(tmp_path, seed):
    make_demo_data(tmp_path, size=128, count=240, seed=0, progress=False)  # the demo data: 102 + 36 test photos
    L.seed_everything(seed)
    data = UnpairedDataModule(str(tmp_path / "unpaired"), image_size=64, batch_size=4, num_workers=0, val_size=36)
    model = _demo_like_model()
    data.setup("validate")
    batch = next(iter(data.val_dataloader()))
    model.eval()
    cycle_before = _strict_cycle(model, batch)
    scores = TrueDrawingScores(report_path=str(tmp_path / "scores.json"))
    L.Trainer(
        accelerator="cpu",
        max_epochs=EPOCHS,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[scores],
    ).fit(model, data)
    model.eval()
    cycle_after = _strict_cycle(model, batch)
    report = json.loads((tmp_path / "scores.json").read_text())
    before, after = report["untrained"], report["trained"]
    assert report["photos"] == 36 and after["judge_truth_accuracy"] >= 0.9, report  # the judge knows the styles
    # held-out photos: the drawings come closer to the true drawings of the requested style. Seeds 0 / 1: mean
    # 0.54x / 0.58x of the untrained distance (the worst style 0.57x / 0.74x); the demo's 24 epochs: 0.44x.
    assert after["chamfer"] <= 0.65 * before["chamfer"], report
    for k in (1, 2, 3):
        assert after[f"chamfer_style{k}"] <= 0.85 * before[f"chamfer_style{k}"], report
    # the judge's accuracy (seeds 0 / 1: 37 % / 73 %, chance 33 %) swings too much between seeds to assert
    assert cycle_after < 0.5 * cycle_before, (cycle_before, cycle_after)  # seeds 0 / 1: 0.20x / 0.18x
