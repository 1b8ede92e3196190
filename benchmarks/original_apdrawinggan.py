"""The authors' APDrawingGAN (github.com/yiranran/APDrawingGAN, a clone the user made) as benchmark rows.

Training follows their ``script/train.sh`` (``--use_local --discriminator_local``, 512², batch 1) from random
weights: their four frozen auxiliary U-Nets (``DT1``, ``DT2``, ``Line1``, ``Line2``) load random stand-ins
written where ``load_auxiliary_networks`` reads them. Inference follows ``script/test_single.sh``
(``--model test --dataset_mode single --use_local``) with random generator weights saved and loaded the way
their ``load_networks`` does. Their own dataset classes read the procedural demo data (APDrawing layout).
No patch is needed for today's torch.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import torch
from original_common import enter_clone, parse_options, quietly

MARKER = "models/apdrawing_gan_model.py"
PATCHES: list[str] = []  # none needed


def _common_argv(workdir: Path, data: Path, size: int) -> list[Any]:
    return [
        "--name", "benchmark", "--gpu_ids", "-1", "--checkpoints_dir", workdir / "checkpoints",
        "--lm_dir", data / "landmark" / "ALL", "--bg_dir", data / "mask" / "ALL",
        "--loadSize", size, "--fineSize", size, "--num_threads", "0", "--display_id", "0", "--use_local",
    ]  # fmt: skip


def _write_auxiliary_standins(model: Any) -> None:
    """Random weights of the four auxiliary U-Nets, saved as ``<auxiliary_dir>/latest_net_<name>.pth``."""
    directory = Path(model.auxiliary_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for name in model.auxiliary_model_names:
        torch.save(getattr(model, "net" + name).state_dict(), directory / f"latest_net_{name}.pth")


def build_training(repo: Path, workdir: Path, data: Path, size: int, batches: int) -> tuple[Any, list[dict]]:
    """Their ``train.py`` up to the loop: options, data loader, model with random weights, ``setup``."""
    enter_clone(repo, workdir, MARKER)
    from data import CreateDataLoader
    from models import create_model
    from options.train_options import TrainOptions

    argv = [
        "--dataroot", data / "data", *_common_argv(workdir, data, size),
        "--discriminator_local", "--niter", "300", "--niter_decay", "0", "--save_epoch_freq", "25",
    ]  # fmt: skip
    opt = parse_options(TrainOptions, argv)
    model = quietly(create_model, opt)
    _write_auxiliary_standins(model)
    quietly(model.setup, opt)
    loader = quietly(CreateDataLoader, opt).load_data()
    samples = list(itertools.islice(loader, min(batches, len(loader))))
    return model, [samples[i % len(samples)] for i in range(batches)]


def training_step(model: Any, batches: list[dict]):
    """One call = one iteration of their loop body: ``set_input`` and ``optimize_parameters``."""
    source = itertools.cycle(batches)

    def step() -> None:
        model.set_input(next(source))
        model.optimize_parameters()

    return step


def build_inference(repo: Path, workdir: Path, data: Path, size: int, eval_mode: bool) -> tuple[Any, dict]:
    """Their ``test.py`` set-up for ``test_single.sh``: random generator weights saved as epoch 300, loaded by
    ``setup``; ``eval_mode`` calls their ``model.eval()`` (as shipped, ``test.py`` never does)."""
    enter_clone(repo, workdir, MARKER)
    from data import CreateDataLoader
    from models import create_model
    from options.test_options import TestOptions

    argv = [
        "--dataroot", data / "test_single", *_common_argv(workdir, data, size),
        "--model", "test", "--dataset_mode", "single", "--norm", "batch", "--which_epoch", "300",
    ]  # fmt: skip
    opt = parse_options(TestOptions, argv)
    opt.num_threads, opt.batch_size, opt.serial_batches, opt.no_flip, opt.display_id = 1, 1, True, True, -1
    model = quietly(create_model, opt)
    Path(model.save_dir).mkdir(parents=True, exist_ok=True)
    model.save_networks2("300")  # random weights where load_networks looks for the released 300_net_gen.pt
    quietly(model.setup, opt)
    if eval_mode:
        model.eval()
    batch = next(iter(quietly(CreateDataLoader, opt).load_data()))
    return model, batch
