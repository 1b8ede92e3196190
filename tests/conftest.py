"""Shared fixtures: tiny datasets written in the real on-disk layouts."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from apd_lightning.data.io import write_landmarks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def quiet_trainer(**kwargs):
    """A one-CPU ``lightning.Trainer`` without logger, checkpoints, progress bar, model summary or validation;
    ``kwargs`` add to or override those settings."""
    import lightning as L

    defaults = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "limit_val_batches": 0,
    }
    return L.Trainer(**{**defaults, **kwargs})


def tiny_apdrawinggan(size: int = 64):
    """An APDrawingGAN with width-4 nets and two-layer local discriminators (fits 64 px part crops)."""
    from apd_lightning.models import APDrawingGAN
    from apd_lightning.nets import APDrawingDiscriminators, HierarchicalGenerator

    return APDrawingGAN(HierarchicalGenerator(size, 4, 4, 4), APDrawingDiscriminators(size, 4, local_num_layers=2))


def write_paired_sample(
    root: Path, split: str, name: str, size: int = 64, seed: int = 0, rgb_mask: bool = False
) -> np.ndarray:
    """Write one A|B pair, its landmark file and mask in the APDrawing layout; return the landmarks."""
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    drawing = np.full((size, size), 255, np.uint8)
    drawing[size // 2, :] = 0  # one horizontal line
    drawing[:, size // 4] = 0  # one vertical line
    pair = np.concatenate([photo, np.repeat(drawing[..., None], 3, 2)], axis=1)
    (root / "data" / split).mkdir(parents=True, exist_ok=True)
    Image.fromarray(pair).save(root / "data" / split / f"{name}.png")
    s = size / 128
    landmarks = np.array([[50, 62], [78, 62], [64, 78], [52, 93], [76, 93]], np.float64) * s
    write_landmarks(root / "landmark" / "ALL" / f"{name}.txt", landmarks)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 8 :, size // 8 : size - size // 8] = 255
    (root / "mask" / "ALL").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.repeat(mask[..., None], 3, 2) if rgb_mask else mask).save(root / "mask" / "ALL" / f"{name}.png")
    return np.round(landmarks)


@pytest.fixture
def paired_root(tmp_path: Path) -> Path:
    """A 64-px APDrawing-layout dataset: 3 train and 2 test pairs."""
    root = tmp_path / "apd"
    for i in range(3):
        write_paired_sample(root, "train", f"train_{i}", seed=i)
    for i in range(2):
        write_paired_sample(root, "test", f"test_{i}", seed=10 + i)
    return root


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """Procedural demo data at 64 px (both layouts), generated once per session."""
    from apd_lightning.data.demo import make_demo_data

    out = tmp_path_factory.mktemp("demo")
    make_demo_data(out, size=64, count=16, seed=0, progress=False)
    return out


_OUTPUT_FOLDERS = ("demo_output", "runs", "outputs", "lightning_logs", "wandb")


def _repository_outputs() -> dict[str, float]:
    return {str(p): p.stat().st_mtime for folder in _OUTPUT_FOLDERS for p in (ROOT / folder).rglob("*") if p.is_file()}


@pytest.fixture(scope="session", autouse=True)
def _tests_leave_the_repository_alone():
    """Fail the session if a test wrote training outputs into the repository (e.g. a relative checkpoint dir)."""
    before = _repository_outputs()
    yield
    changed = sorted(path for path, mtime in _repository_outputs().items() if before.get(path) != mtime)
    assert not changed, f"tests wrote into the repository: {changed[:5]}"
