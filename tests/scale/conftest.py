"""Shared command lines of the scale tests: the demo configs made tiny (64 px, width 4, two batches)."""

from __future__ import annotations

import os

import pytest
import torch

from tests.conftest import ROOT

CONFIGS = ROOT / "configs"
QUIET = [
    "--trainer.enable_progress_bar",
    "false",
    "--trainer.enable_model_summary",
    "false",
    "--trainer.num_sanity_val_steps",
    "0",
]


def apdrawinggan_args(demo_root) -> list[str]:
    """``fit`` arguments of the demo APDrawingGAN at 64 px with width-4 nets."""
    return [
        "-c",
        str(CONFIGS / "apdrawinggan.yaml"),
        "-c",
        str(CONFIGS / "demo/apdrawinggan.yaml"),
        "--data.root",
        str(demo_root / "apdrawing"),
        "--data.image_size",
        "64",
        "--data.num_workers",
        "0",
        "--data.batch_size",
        "2",
        "--model.generator.init_args.global_channels",
        "4",
        "--model.generator.init_args.part_channels",
        "4",
        "--model.generator.init_args.fusion_channels",
        "4",
        "--model.discriminators.init_args.base_channels",
        "4",
        "--model.discriminators.init_args.local_num_layers",
        "2",
        *QUIET,
    ]


def qmupd_args(demo_root) -> list[str]:
    """``fit`` arguments of the demo QMUPD (random auxiliaries) at 64 px with width-4 nets."""
    return [
        "-c",
        str(CONFIGS / "qmupd.yaml"),
        "-c",
        str(CONFIGS / "demo/qmupd.yaml"),
        "--data.root",
        str(demo_root / "unpaired"),
        "--data.image_size",
        "64",
        "--data.num_workers",
        "0",
        "--data.batch_size",
        "2",
        "--model.generator.init_args.base_channels",
        "4",
        "--model.generator.init_args.num_blocks",
        "1",
        "--model.reverse_generator.init_args.base_channels",
        "4",
        "--model.reverse_generator.init_args.num_blocks",
        "1",
        "--model.discriminators.init_args.base_channels",
        "4",
        *QUIET,
    ]


MODEL_ARGS = {"apdrawinggan": apdrawinggan_args, "qmupd": qmupd_args}


def subprocess_env() -> dict[str, str]:
    """Environment of ``python -m apd_lightning`` subprocesses: one thread, no W&B, ``tests`` importable."""
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "WANDB_MODE": "disabled",
        "NO_ALBUMENTATIONS_UPDATE": "1",
    }


@pytest.fixture(autouse=True)
def one_thread_and_restored_determinism():
    """One intra-op thread (tiny tensors, 2 shared cores); undo ``--trainer.deterministic true`` afterwards."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
