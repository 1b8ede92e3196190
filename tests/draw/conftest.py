"""Fixtures of the drawing tests: photos of a real face at several sizes, tiny checkpoints of every kind."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from ..convert.helpers import fill_plausible

pytest.importorskip("mediapipe")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut portrait, ``(512, 512, 3)`` uint8 RGB."""
    return pytest.importorskip("skimage.data").astronaut()


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient with noise: a background a JPEG encoder cannot make trivial."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 200 / width, y * 200 / height, np.full_like(x, 120)], axis=-1)
    return np.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


def place(canvas: np.ndarray, face: np.ndarray, top: int, left: int, scale: float) -> np.ndarray:
    """``canvas`` with ``face`` resized by ``scale`` pasted at (top, left)."""
    face = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    out = canvas.copy()
    out[top : top + face.shape[0], left : left + face.shape[1]] = face
    return out


@pytest.fixture(scope="session")
def photos(tmp_path_factory, astronaut) -> dict[str, Path]:
    """Photos of one face at three sizes and aspects, plus a photo without a face.

    ``wide.jpg``: 2400×1600, long side > 2000 (decoded at a reduced scale); ``exif.jpg``: stored 900×600 with
    EXIF orientation 6, i.e. a 600×900 portrait once oriented; ``small.png``: 400×460; ``noface.png``.
    """
    folder = tmp_path_factory.mktemp("draw_photos")
    wide = place(textured(1600, 2400), astronaut, 200, 700, 2.2)
    Image.fromarray(wide).save(folder / "wide.jpg", quality=92)
    portrait = place(textured(900, 600, 1), astronaut, 150, 20, 1.1)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it 90° clockwise
    Image.fromarray(np.rot90(portrait, k=1).copy()).save(folder / "exif.jpg", quality=92, exif=exif)
    Image.fromarray(place(textured(460, 400, 2), astronaut, 20, 8, 0.75)).save(folder / "small.png")
    Image.fromarray(textured(300, 400, 3)).save(folder / "noface.png")
    return {p.name: p for p in folder.iterdir()}


def smooth_output(net: torch.nn.Module, sigma: float = 2.0) -> torch.nn.Module:
    """Give the net's last (7×7) convolution Gaussian kernels with random signs per input channel, so that its
    drawings vary smoothly at the pixel scale, like a trained model's lines, instead of a random net's
    checkerboard (which no resampling can carry between frames)."""
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    radius = last.kernel_size[0] // 2
    grid = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / (2 * sigma**2))
    signs = torch.tensor([(-1.0) ** (i % 3 == 0) for i in range(last.in_channels)])
    with torch.no_grad():
        last.weight.copy_(signs[None, :, None, None] * kernel / kernel.sum() * 3.0)
        last.bias.zero_()
    return net


def save_fit_checkpoint(module, path: Path) -> Path:
    """What ``fit`` writes for the drawing: state dict, hyper-parameters and the module's own entries."""
    checkpoint = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams), "epoch": 0}
    module.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


def tiny_apdrawinggan_module(size: int = 128):
    """A width-4 APDrawingGAN whose generator has plausible (non-saturated, structured) random weights."""
    from apd_lightning.models import APDrawingGAN
    from apd_lightning.nets import APDrawingDiscriminators, HierarchicalGenerator

    generator = smooth_output(fill_plausible(HierarchicalGenerator(size, 4, 4, 4), seed=1))
    return APDrawingGAN(generator, APDrawingDiscriminators(size, 4, local_num_layers=2))


def tiny_qmupd_module(size: int = 64, **kwargs):
    """A width-4 QMUPD (one residual block) with plausible random generator weights."""
    from apd_lightning.models import QMUPD
    from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator, StyleGenerator

    generator = smooth_output(fill_plausible(StyleGenerator(base_channels=4, num_blocks=1), seed=2))
    return QMUPD(
        generator,
        ResnetGenerator(base_channels=4, num_blocks=1),
        QMUPDDiscriminators(size, base_channels=4),
        auxiliaries="random_init",
        **kwargs,
    )


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Tiny checkpoints: ``apdrawinggan`` (128 px) and ``qmupd`` (64 px) as ``fit`` writes them, and
    ``converted_apdrawinggan`` / ``converted_upd`` in the ``convert-weights`` format (512 px, width 4, no
    hyper-parameters), made from official-layout state dicts."""
    from apd_lightning.convert import apdrawinggan_layout, convert_state, qmupd_layout, save_converted, to_official
    from apd_lightning.nets import HierarchicalGenerator, StyleGenerator

    folder = tmp_path_factory.mktemp("draw_checkpoints")
    paths = {
        "apdrawinggan": save_fit_checkpoint(tiny_apdrawinggan_module(), folder / "apd.ckpt"),
        "qmupd": save_fit_checkpoint(tiny_qmupd_module(), folder / "qmupd.ckpt"),
    }
    generators = {
        "apdrawinggan": (
            fill_plausible(HierarchicalGenerator(512, 4, 4, 4), 3),
            apdrawinggan_layout(4, 4, 4, 4),
            "gen",
        ),
        "upd": (fill_plausible(StyleGenerator(base_channels=4, num_blocks=1), 4), qmupd_layout("upd", 4, 1), "G_A"),
    }
    for kind, (generator, layout, role) in generators.items():
        ours = {f"generator.{k}": v for k, v in generator.state_dict().items()}
        state = {k: ours.get(k, torch.zeros(shape)) for k, shape in layout.shapes.items()}
        official = to_official(layout, state)[role]  # only the generator's file, as most users have
        flat = {f"{net}.{k}": v for net, sub in official.items() for k, v in sub.items()} if role == "gen" else official
        converted, _ = convert_state(layout, {role: flat})
        metadata = {"kind": kind, "fits": layout.fits, "sources": {}, "freshly_initialised": {}}
        paths[f"converted_{kind}"] = save_converted(kind, converted, metadata, folder / f"converted_{kind}.ckpt")
    return paths
