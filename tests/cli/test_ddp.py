"""Multi-process training: 2-process DDP fits on CPU (gloo) through ``python -m apd_lightning fit``, and the
SyncBatchNorm option of APDrawingGAN's nets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml
from torch import nn

from apd_lightning.cli import main
from apd_lightning.nets import HierarchicalGenerator
from tests.builders import CONFIGS
from tests.helpers import MODEL_ARGS, ONE_SHORT_EPOCH, subprocess_env

pytestmark = pytest.mark.usefixtures("one_thread_and_restored_determinism")

VAL_KEY = {"apdrawinggan": "val/l1", "qmupd": "val/strict_cycle"}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["apdrawinggan", "qmupd"])
def test_two_process_ddp_fit(model, demo_root, tmp_path):
    # plain ddp: each step calls manual_backward twice, each time on one optimizer's networks; the module makes
    # DDP accept that, and its channels-last weights are in place before DDP lays out its gradient buckets
    command = [
        sys.executable,
        "-m",
        "apd_lightning",
        "fit",
        *MODEL_ARGS[model](demo_root),
        "--model.init_args.channels_last",
        "true",  # "auto" would train channels-first on a CPU without AVX-512
        "--trainer.accelerator",
        "cpu",
        "--trainer.devices",
        "2",
        "--trainer.strategy",
        "ddp",
        *ONE_SHORT_EPOCH,
        "--trainer.logger",
        "false",
        "--trainer.callbacks+=tests.helpers.DumpWeights",
    ]
    result = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Grad strides do not match bucket view strides" not in result.stderr
    assert result.stderr.count("DDP with find_unused_parameters=True") == 1  # said once, by rank 0
    (run,) = (tmp_path / "demo_output").rglob("config.yaml")  # one run folder, claimed by rank 0
    assert run.parent.name == "version_0"

    checkpoints = sorted(tmp_path.rglob("*.ckpt"))
    assert [p.name for p in checkpoints] == ["last.ckpt"]  # written once, by rank 0
    assert torch.load(checkpoints[0], map_location="cpu", weights_only=True)["global_step"] == 4
    ranks = [json.loads(p.read_text()) for p in sorted(tmp_path.rglob("weights_rank*.json"))]
    assert [(r["rank"], r["world_size"]) for r in ranks] == [(0, 2), (1, 2)]
    assert ranks[0]["digest"] == ranks[1]["digest"]  # gradients were averaged: identical weights
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 4  # 2 batches x (D + G) optimizer steps
    assert ranks[0]["batch_sizes"] == ranks[1]["batch_sizes"] == [2, 2]  # data.batch_size is per process
    if model == "apdrawinggan":  # one sample per photo: the DistributedSampler gave each rank its own photos
        assert not set(ranks[0]["names"]) & set(ranks[1]["names"])
    else:  # the unpaired set repeats photos (index % |A|), so only the orders can be told apart
        assert ranks[0]["names"] != ranks[1]["names"]
    key = VAL_KEY[model]  # validation saw different photos per rank, yet the logged value is the global one
    assert ranks[0]["metrics"][key] == ranks[1]["metrics"][key]
    assert ranks[0]["checkpoint_io"] == "AtomicCheckpointIO"
    assert {"PreemptionCheckpoint", "RandomStateCheckpoint"} <= set(ranks[0]["callbacks"])


def test_sync_batchnorm_option(capsys):
    net = HierarchicalGenerator(
        image_size=64, global_channels=4, part_channels=4, fusion_channels=4, norm_layer="sync_batch"
    )
    assert any(isinstance(m, nn.SyncBatchNorm) for m in net.modules())
    assert not any(type(m) is nn.BatchNorm2d for m in net.modules())
    photo = torch.rand(2, 3, 64, 64) * 2 - 1
    landmarks = torch.tensor([[20.0, 25], [44, 25], [32, 35], [22, 46], [42, 46]]).expand(2, -1, -1)
    out = net(photo, landmarks, torch.ones(2, 1, 64, 64)).drawing  # one process: plain batch norm
    assert out.shape == (2, 1, 64, 64) and torch.isfinite(out).all()

    with pytest.raises(SystemExit):
        main(
            [
                "fit",
                "-c",
                str(CONFIGS / "apdrawinggan.yaml"),
                "--trainer.sync_batchnorm",
                "true",
                "--model.generator.init_args.norm_layer",
                "sync_batch",
                "--model.discriminators.init_args.norm_layer",
                "sync_batch",
                "--print_config",
            ]
        )
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["trainer"]["sync_batchnorm"] is True
    assert config["model"]["init_args"]["generator"]["init_args"]["norm_layer"] == "sync_batch"
