"""The authors' QMUPD (github.com/yiranran/QMUPD, a clone the user made) as benchmark rows.

Training: their ``cycle_gan_cls`` model with the options of UPD's ``scripts/train.sh`` (``--output_nc 1
--load_size 572 --crop_size 512 --lr 1.5e-5 --niter 100 --niter_decay 200``) plus QMUPD's generator
(``--netga resnet_style2_9blocks``) and quality loss (``--metric``), otherwise their defaults (perceptual cycle
6: HED + LPIPS on the plain and the truncated reconstruction, three local discriminators, pool 50), on CPU, at
epoch 101 (the truncated cycle on, as in every epoch but the first). Their frozen auxiliaries are random
stand-ins built with their own classes and saved where their code reads them: HED
(``./checkpoints/network-bsds500.pytorch``), the quality regressor (``./checkpoints/metric/3/30_net_Regressor.pth``,
Inception v3), LPIPS's linear layers (``./checkpoints/weights/v0.1/alex.pth``) and torchvision's AlexNet (in a
scratch ``TORCH_HOME``). Inputs are built from the demo data with their own ``get_params`` / ``get_transform``
(their dataset class hard-codes their folder names). Inference: their ``test`` model as
``test_seq_style3.py`` runs it, for one style.

Patch (in memory): the perceptual-cycle branch of ``backward_G`` moves tensors with ``.cuda(gpu_ids_p[0])``,
which fails without a GPU; it is rewritten to ``.to(self.device)``.
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from original_common import enter_clone, parse_options, patch_source, quietly

MARKER = "models/cycle_gan_cls_model.py"
PATCHES = [
    "models.cycle_gan_cls_model.CycleGANClsModel.backward_G: .cuda(gpu_ids_p[0] / gpu_ids[0]) -> .to(self.device)"
]
EPOCH = 101  # any epoch after the first runs the truncated cycle too
CPU_PATCH = [
    ("gpu_p = self.opt.gpu_ids_p[0]", "gpu_p = self.device", 1),
    ("gpu = self.opt.gpu_ids[0]", "gpu = self.device", 1),
    (".cuda(gpu_p)", ".to(gpu_p)", 3),
    (".cuda(gpu)", ".to(gpu)", 2),
]


def _write_auxiliary_standins(workdir: Path) -> None:
    """Random auxiliary weights, built with their classes, where their code loads them."""
    from models import networks, networks_basic
    from torchvision.models import alexnet

    hub = workdir / "torch_home" / "hub" / "checkpoints"
    hub.mkdir(parents=True, exist_ok=True)
    torch.save(alexnet().state_dict(), hub / "alexnet-owt-7be5be79.pth")
    os.environ["TORCH_HOME"] = str(workdir / "torch_home")
    checkpoints = workdir / "checkpoints"
    (checkpoints / "metric" / "3").mkdir(parents=True, exist_ok=True)
    (checkpoints / "weights" / "v0.1").mkdir(parents=True, exist_ok=True)
    torch.save(networks.HED().state_dict(), checkpoints / "network-bsds500.pytorch")
    metric = quietly(networks.define_inception_v3a, None)
    torch.save(metric.state_dict(), checkpoints / "metric" / "3" / "30_net_Regressor.pth")
    lpips = networks_basic.PNetLin(pnet_type="alex", pnet_rand=True, use_dropout=True, version="0.1")
    torch.save(
        {k: v for k, v in lpips.state_dict().items() if k.startswith("lin")},
        checkpoints / "weights" / "v0.1" / "alex.pth",
    )


def _argv(workdir: Path, data: Path, size: int) -> list[Any]:
    return [
        "--dataroot", data, "--name", "benchmark", "--gpu_ids", "-1", "--checkpoints_dir", workdir / "checkpoints",
        "--output_nc", "1", "--load_size", round(size * 572 / 512), "--crop_size", size, "--num_threads", "0",
        "--netga", "resnet_style2_9blocks",
    ]  # fmt: skip


def _load_sample(opt: Any, data: Path, index: int) -> dict:
    """One training item as their ``unaligned_mask_stylecls`` dataset returns it (batch of 1)."""
    from data.base_dataset import get_params, get_transform, get_transform_mask
    from PIL import Image

    train = data / "train"
    photos, drawings = sorted((train / "A").glob("*.png")), sorted((train / "B").glob("*.png"))
    photo, drawing = photos[index % len(photos)], drawings[random.randrange(len(drawings))]
    item: dict[str, Any] = {"A_paths": [str(photo)], "B_paths": [str(drawing)]}
    for side, path, channels in (("A", photo, 3), ("B", drawing, 1)):
        image = Image.open(path).convert("RGB")
        params = get_params(opt, image.size)
        item[side] = get_transform(opt, params, grayscale=channels == 1)(image)[None]
        for key, region in (("mask", "nose"), ("maske", "eyes"), ("maskl", "lips")):
            mask = Image.open(train / f"{side}_{region}" / path.name)
            item[f"{side}_{key}"] = get_transform_mask(opt, params, grayscale=1)(mask)[None]
    softmax = torch.from_numpy(np.load(train / "B_feat" / f"{drawing.stem}.npy")).float()
    item["B_label"] = softmax.argmax()[None]
    item["B_style"] = softmax.view(1, 3, 1, 1).repeat(1, 1, opt.crop_size // 4, opt.crop_size // 4)
    return item


def build_training(repo: Path, workdir: Path, data: Path, size: int, batches: int) -> tuple[Any, list[dict]]:
    """Their ``train.py`` up to the loop (options, model with random weights and stand-in auxiliaries,
    ``setup``, ``update_process`` of epoch 101) and ``batches`` training items."""
    enter_clone(repo, workdir, MARKER)
    from models import create_model
    from models.cycle_gan_cls_model import CycleGANClsModel
    from options.train_options import TrainOptions

    patch_source(CycleGANClsModel, "backward_G", CPU_PATCH)
    _write_auxiliary_standins(workdir)
    argv = [
        *_argv(workdir, data, size), "--model", "cycle_gan_cls", "--display_id", "0", "--gpu_ids_p", "-1", "--metric",
        "--lr", "0.000015", "--niter", "100", "--niter_decay", "200",
    ]  # fmt: skip
    opt = parse_options(TrainOptions, argv)
    model = quietly(create_model, opt)
    quietly(model.setup, opt)
    model.update_process(EPOCH)
    return model, [_load_sample(opt, data, i) for i in range(batches)]


def training_step(model: Any, batches: list[dict]):
    """One call = one iteration of their loop body: ``set_input`` and ``optimize_parameters``."""
    source = itertools.cycle(batches)

    def step() -> None:
        model.set_input(next(source))
        quietly(model.optimize_parameters)  # backward_G prints nothing in branch 6, but stay safe

    return step


def build_inference(repo: Path, workdir: Path, data: Path, size: int) -> tuple[Any, dict]:
    """Their ``test.py`` as ``test_seq_style3.py`` calls it for style ``1,0,0``, with random weights saved as
    epoch 200 and loaded by ``setup``."""
    enter_clone(repo, workdir, MARKER)
    from data import create_dataset
    from models import create_model
    from options.test_options import TestOptions

    argv = [
        *_argv(workdir, data / "test" / "A", size), "--model", "test", "--no_dropout", "--model_suffix", "_A",
        "--epoch", "200", "--style_control", "1", "--sinput", "svec", "--svec", "1,0,0",
    ]  # fmt: skip
    opt = parse_options(TestOptions, argv)
    opt.num_threads, opt.batch_size, opt.serial_batches, opt.no_flip, opt.display_id = 0, 1, True, True, -1
    model = quietly(create_model, opt)
    Path(model.save_dir).mkdir(parents=True, exist_ok=True)
    model.save_networks("200")  # random weights where load_networks looks for 200_net_G_A.pth / _G_B.pth
    quietly(model.setup, opt)
    batch = next(iter(quietly(create_dataset, opt)))
    return model, batch
