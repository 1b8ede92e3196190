"""models.spec: the checkpoint entry that says which model it is, and inferring it from weights alone."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.models.spec import (
    MODEL_SPEC_KEY,
    hierarchical_generator_args,
    infer_generator,
    model_spec,
    style_generator_args,
)
from apd_lightning.nets import HierarchicalGenerator, StyleGenerator
from tests.builders import quiet_trainer, tiny_apdrawinggan


@pytest.mark.parametrize(
    "args",
    [
        dict(image_size=64, global_channels=4, part_channels=8, fusion_channels=2, norm_layer="batch"),
        dict(image_size=256, global_channels=8, part_channels=4, fusion_channels=4, norm_layer="instance"),
        dict(image_size=512, global_channels=2, part_channels=2, fusion_channels=2, norm_layer="batch"),
    ],
)
def test_hierarchical_generator_arguments_are_read_back_from_its_weights(args):
    with torch.device("meta"):
        state = HierarchicalGenerator(**args).state_dict()
    assert hierarchical_generator_args(state) == {**args, "dropout": True}


@pytest.mark.parametrize(
    "args",
    [
        dict(in_channels=3, out_channels=1, base_channels=4, num_blocks=1, style_dim=3, norm_layer="instance"),
        dict(in_channels=1, out_channels=3, base_channels=8, num_blocks=9, style_dim=5, norm_layer="batch"),
        dict(base_channels=4, num_blocks=2, style_modulation=True, upsampling="resize"),
        dict(base_channels=4, num_blocks=2, style_modulation=True, decoder_modulation=True),
    ],
)
def test_style_generator_arguments_are_read_back_from_its_weights(args):
    defaults = dict(in_channels=3, out_channels=1, style_dim=3, norm_layer="instance")
    args = {**defaults, "style_modulation": False, "decoder_modulation": False, "upsampling": "transposed", **args}
    with torch.device("meta"):
        state = StyleGenerator(**args).state_dict()
    assert style_generator_args(state) == args
    assert infer_generator("upd", state) == {"class_path": "apd_lightning.nets.StyleGenerator", "init_args": args}


def test_model_spec_records_dropout_and_rebuilds_an_identical_generator():
    generator = HierarchicalGenerator(64, 4, 4, 4, dropout=False)
    spec = model_spec("apdrawinggan", generator, 64, "train")
    assert spec["generator"]["init_args"]["dropout"] is False and spec["inference_norm"] == "train"
    rebuilt = HierarchicalGenerator(**spec["generator"]["init_args"])
    rebuilt.load_state_dict(generator.state_dict())  # strict: same layers and shapes
    with pytest.raises(ValueError, match="unknown model kind"):
        infer_generator("cyclegan", generator.state_dict())


def test_fit_checkpoints_carry_the_entry_and_load_with_weights_only(paired_root, tmp_path):
    from apd_lightning.data import APDrawingDataModule

    module = tiny_apdrawinggan()
    trainer = quiet_trainer(max_steps=1, limit_val_batches=0)
    trainer.fit(module, APDrawingDataModule(str(paired_root), image_size=64, batch_size=2, num_workers=0))
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    checkpoint = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint[MODEL_SPEC_KEY] == {
        "kind": "apdrawinggan",
        "image_size": 64,
        "generator": {
            "class_path": "apd_lightning.nets.HierarchicalGenerator",
            "init_args": dict(
                image_size=64, global_channels=4, part_channels=4, fusion_channels=4, norm_layer="batch", dropout=True
            ),
        },
        "inference_norm": "eval",
        "styles": {},
    }


def test_qmupd_and_upd_checkpoints_name_their_kind_and_styles():
    from apd_lightning.models import QMUPD
    from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator

    def entry(**kwargs):
        module = QMUPD(
            StyleGenerator(base_channels=4, num_blocks=1),
            ResnetGenerator(base_channels=4, num_blocks=1),
            QMUPDDiscriminators(96, base_channels=4),
            auxiliaries="random_init",
            **kwargs,
        )
        checkpoint = {}
        module.on_save_checkpoint(checkpoint)
        return checkpoint[MODEL_SPEC_KEY]

    qmupd = entry(styles="1,0.5:0.5:0")
    assert qmupd["kind"] == "qmupd" and qmupd["image_size"] == 96
    assert qmupd["styles"] == {"style1": [1.0, 0.0, 0.0], "mix_0.5_0.5_0": [0.5, 0.5, 0.0]}
    assert qmupd["generator"]["init_args"]["num_blocks"] == 1
    assert entry(use_quality_loss=False)["kind"] == "upd"
