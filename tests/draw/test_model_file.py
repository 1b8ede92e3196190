"""model_file: every kind of checkpoint is understood without a config; anything else is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from apd_lightning.draw.errors import ModelFileError
from apd_lightning.draw.model_file import read_checkpoint
from apd_lightning.models.spec import MODEL_SPEC_KEY


def test_fit_and_converted_checkpoints_describe_their_model(checkpoints):
    spec, state = read_checkpoint(checkpoints["apdrawinggan"])
    assert (spec.kind, spec.image_size, spec.inference_norm, spec.style_names) == ("apdrawinggan", 128, "eval", ())
    assert "global_net.model.down.0.weight" in state and not any(k.startswith("generator.") for k in state)
    spec, _ = read_checkpoint(checkpoints["qmupd"])
    assert (spec.kind, spec.image_size, spec.style_names) == ("qmupd", 64, ("style1", "style2", "style3"))
    spec, _ = read_checkpoint(checkpoints["converted_apdrawinggan"])
    assert (spec.kind, spec.image_size, spec.inference_norm) == ("apdrawinggan", 512, "train")  # as the authors ran
    assert spec.generator["init_args"]["global_channels"] == 4
    spec, _ = read_checkpoint(checkpoints["converted_upd"])
    assert (spec.kind, spec.image_size) == ("upd", 512)  # the style head's 16×16 kernel


def test_older_fit_checkpoints_without_the_entry_are_inferred(checkpoints, tmp_path: Path):
    for kind, size in (("apdrawinggan", 128), ("qmupd", 64)):
        checkpoint = torch.load(checkpoints[kind], weights_only=True)
        entry = checkpoint.pop(MODEL_SPEC_KEY)
        torch.save(checkpoint, tmp_path / f"{kind}.ckpt")
        spec, _ = read_checkpoint(tmp_path / f"{kind}.ckpt")
        assert (spec.kind, spec.image_size, spec.generator) == (kind, size, entry["generator"])
    checkpoint["hyper_parameters"]["use_quality_loss"] = False
    torch.save(checkpoint, tmp_path / "upd.ckpt")
    assert read_checkpoint(tmp_path / "upd.ckpt")[0].kind == "upd"


def test_files_that_are_not_drawing_models_give_one_line(tmp_path: Path):
    from apd_lightning.models import QualityRegressor
    from apd_lightning.nets import QualityNet

    quality = QualityRegressor(QualityNet("small", width=4))
    torch.save(
        {
            "state_dict": quality.state_dict(),
            "hyper_parameters": {"_class_path": "apd_lightning.models.QualityRegressor"},
        },
        tmp_path / "quality.ckpt",
    )
    (tmp_path / "notes.ckpt").write_text("hello")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "plain.ckpt")
    torch.save({"state_dict": {}, "f": Path("x")}, tmp_path / "pickled.ckpt")  # an object weights_only refuses
    cases = {
        "quality.ckpt": "quality.ckpt: holds no drawing model (APDrawingGAN, QMUPD or UPD) (it is a QualityRegressor",
        "notes.ckpt": "notes.ckpt: not a PyTorch checkpoint",
        "plain.ckpt": "plain.ckpt: not a Lightning checkpoint",
        "pickled.ckpt": "pickled.ckpt: refused",
        "missing.ckpt": "missing.ckpt: no such checkpoint file",
    }
    for name, start in cases.items():
        with pytest.raises(ModelFileError) as caught:
            read_checkpoint(tmp_path / name)
        assert str(caught.value).startswith(start) and "\n" not in str(caught.value), str(caught.value)
        assert str(tmp_path) not in str(caught.value)
