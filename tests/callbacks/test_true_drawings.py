"""TrueDrawingScores: per-style chamfer to the true drawings and the independent judge's accuracy."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
from torch import nn

from apd_lightning.callbacks import TrueDrawingScores
from apd_lightning.data import UnpairedDataModule
from apd_lightning.data.demo import make_demo_data
from tests.builders import quiet_trainer, tiny_qmupd


class Oracle(L.LightningModule):
    """Draws every validation photo as its true drawing of the requested style (perfect scores)."""

    def __init__(self, wrong_style: bool = False) -> None:
        super().__init__()
        self.generator = nn.Module()
        self.generator.style_dim = 3
        self.wrong_style, self.truth = wrong_style, None

    def forward(self, photo, style):
        k = (style.argmax(1) + int(self.wrong_style)) % 3
        return self.truth[torch.arange(len(photo)), k][:, None]

    def validation_step(self, batch, batch_idx):
        self.truth = batch.true_drawing


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    make_demo_data(root, size=64, count=40, seed=0, progress=False)  # 6 test photos with true drawings
    return root / "unpaired"


def _validate(module, root, callback):
    torch.set_num_threads(1)
    data = UnpairedDataModule(str(root), image_size=64, batch_size=4, num_workers=0, val_size=6)
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[callback]
    )
    return trainer.validate(module, datamodule=data, verbose=False)[0]


def test_the_true_drawings_score_perfectly_and_the_wrong_style_is_caught(demo_root):
    callback = TrueDrawingScores(judge_steps=150)
    scores = _validate(Oracle(), demo_root, callback)
    assert set(scores) == {
        "val/chamfer_style1",
        "val/chamfer_style2",
        "val/chamfer_style3",
        "val/chamfer",
        "val/judge_accuracy",
        "val/judge_truth_accuracy",
    }
    assert scores["val/chamfer"] == 0 and scores["val/chamfer_style2"] == 0
    assert scores["val/judge_truth_accuracy"] >= 0.9  # held out from the judge's training (train/B only)
    assert scores["val/judge_accuracy"] == scores["val/judge_truth_accuracy"]
    wrong = _validate(Oracle(wrong_style=True), demo_root, callback)  # the judge is trained once, then reused
    assert wrong["val/chamfer"] > 0.3 and wrong["val/judge_accuracy"] <= 0.1


@pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")
def test_an_untrained_qmupd_is_far_from_the_truth_and_a_weak_judge_warns(demo_root):
    with pytest.warns(UserWarning, match="style judge reads only"):  # 2 steps: the judge has not learnt yet
        scores = _validate(tiny_qmupd(), demo_root, TrueDrawingScores(judge_steps=2))
    assert scores["val/chamfer"] > 1.0  # pixels at 64 px
    assert 0 <= scores["val/judge_accuracy"] <= 1


@pytest.mark.usefixtures("one_thread")
@pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init")
def test_the_report_compares_the_untrained_and_the_trained_generator_on_every_held_out_photo(
    demo_root, tmp_path, capsys
):
    module = tiny_qmupd()
    untrained = {k: v.clone() for k, v in module.generator.state_dict().items()}
    data = UnpairedDataModule(str(demo_root), image_size=64, batch_size=4, num_workers=0, val_size=6)
    callback = TrueDrawingScores(judge_steps=150, report_path=str(tmp_path / "report" / "scores.json"))
    quiet_trainer(max_steps=2, callbacks=[callback]).fit(module, datamodule=data)
    report = json.loads((tmp_path / "report" / "scores.json").read_text())
    assert report["photos"] == 6 and set(report) == {"photos", "untrained", "trained"}
    keys = {"chamfer_style1", "chamfer_style2", "chamfer_style3", "chamfer", "judge_accuracy", "judge_truth_accuracy"}
    assert set(report["untrained"]) == set(report["trained"]) == keys
    assert report["untrained"]["chamfer"] > 1.0 and report["trained"] != report["untrained"]  # two steps changed G
    assert report["trained"]["judge_truth_accuracy"] >= 0.9
    # the untrained figures are those of the generator before its first step
    module.generator.load_state_dict(untrained)
    again = _validate(module, demo_root, TrueDrawingScores(judge_steps=150))
    assert again["val/chamfer"] == pytest.approx(report["untrained"]["chamfer"], abs=1e-3)
    assert again["val/judge_accuracy"] == pytest.approx(report["untrained"]["judge_accuracy"], abs=1e-3)
    printed = capsys.readouterr().out
    assert "held-out photos (untrained -> trained)" in printed and "style judge" in printed
    assert (tmp_path / "report" / "scores.txt").read_text().strip() in printed
