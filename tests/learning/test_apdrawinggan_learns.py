"""Learning check: the demo fit halves the chamfer distance on held-out demo photos."""

from pathlib import Path

import pytest
import torch

from apd_lightning.cli import main
from apd_lightning.data import APDrawingDataModule
from apd_lightning.data.demo import make_demo_data
from apd_lightning.metrics import ChamferDistance
from apd_lightning.nets import HierarchicalGenerator

from ..conftest import ROOT


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
        ]
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
