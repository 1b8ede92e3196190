"""QualityRegressor: losses, config, checkpoint round trip, and that it learns on a synthetic rated set."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import pytest
import torch

from apd_lightning.cli import main as cli_main
from apd_lightning.data.demo import make_demo_data
from apd_lightning.data.ratings import RatedDrawingsDataModule, make_synthetic_ratings
from apd_lightning.models.quality import QualityRegressor
from apd_lightning.nets.pretrained import Frozen, load_quality_net
from apd_lightning.nets.quality import QualityNet
from tests.builders import write_drawings

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("overlays", [["quality.yaml"], ["quality.yaml", "demo/quality.yaml"]])
def test_configs_parse(overlays, capsys):
    args = ["fit", *[a for name in overlays for a in ("-c", str(CONFIGS / name))], "--print_config"]
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "apd_lightning.models.quality.QualityRegressor" in printed
    assert "backbone: small" in printed if len(overlays) == 2 else "backbone: inception_v3" in printed


def _rated_set(root: Path) -> Path:
    write_drawings(root / "src", 8, size=32)
    make_synthetic_ratings(root / "src", root / "rated", seed=0, copies=2)
    return root / "rated"


def test_fast_dev_run_and_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    data = RatedDrawingsDataModule(
        str(_rated_set(tmp_path)), image_size=32, val_fraction=0.25, batch_size=4, num_workers=0
    )
    model = QualityRegressor(QualityNet("small", width=4), lambda_rank=0.5, lr=1e-3)
    trainer = L.Trainer(
        fast_dev_run=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    trainer.fit(model, data)
    path = tmp_path / "quality.ckpt"
    trainer.save_checkpoint(path)
    loaded = load_quality_net(path)  # architecture read from the checkpoint
    assert loaded.config == {"backbone": "small", "width": 4, "input_size": 64} and isinstance(loaded, Frozen)
    drawing = torch.rand(3, 1, 32, 32) * 2 - 1
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(drawing), model(drawing))


def test_regressor_learns_synthetic_ratings(tmp_path):
    """Demo drawings degraded by known amounts (score = 1 - amount): validation Spearman >= 0.8."""
    make_demo_data(tmp_path / "demo", size=64, count=48, seed=0, progress=False)
    rated = tmp_path / "rated"
    make_synthetic_ratings(tmp_path / "demo" / "apdrawing" / "data" / "train", rated, seed=0, copies=4, combined=True)
    L.seed_everything(0, verbose=False)
    data = RatedDrawingsDataModule(str(rated), image_size=64, val_fraction=0.2, batch_size=16, num_workers=0)
    model = QualityRegressor(QualityNet("small", width=8), lambda_rank=0.5, rank_margin=0.05, lr=2e-3)
    trainer = L.Trainer(
        max_epochs=4,
        accelerator="cpu",
        logger=L.pytorch.loggers.CSVLogger(tmp_path),
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    untrained = trainer.validate(model, data, verbose=False)[0]["val/spearman"]
    trainer.fit(model, data)
    spearman = trainer.callback_metrics["val/spearman"].item()
    with (Path(trainer.logger.log_dir) / "metrics.csv").open() as handle:
        history = [float(r["val/spearman"]) for r in csv.DictReader(handle) if r.get("val/spearman")]
    print(f"val/spearman per validation run (the first untrained): {[round(s, 3) for s in history]}")
    assert untrained < 0.8 <= spearman
