"""Shared fixtures: tiny datasets in the real on-disk layouts, metric-network stand-ins, one CPU thread, and a
guard that no test writes into the repository. What the tests build lives in :mod:`tests.builders`."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from .builders import (  # noqa: E402
    ROOT,
    TinyFeatures,
    TinyLPIPS,
    save_image,
    tiny_quality_net,
    write_paired_sample,
    write_unpaired_root,
)


@pytest.fixture
def paired_root(tmp_path: Path) -> Path:
    """A 64-px APDrawing-layout dataset: 3 train and 2 test pairs."""
    root = tmp_path / "apd"
    for i in range(3):
        write_paired_sample(root, "train", f"train_{i}", seed=i)
    for i in range(2):
        write_paired_sample(root, "test", f"test_{i}", seed=10 + i)
    return root


@pytest.fixture
def unpaired_root(tmp_path: Path) -> Path:
    """3 photos, 4 drawings (soft .npy styles), 2 test photos, 48 px, plus hidden files that must be ignored."""
    root = write_unpaired_root(tmp_path / "unpaired")
    hidden = root / "train" / "A" / ".ipynb_checkpoints"
    save_image(np.zeros((8, 8, 3), np.uint8), hidden / "photo_0-checkpoint.png")
    save_image(np.zeros((8, 8, 3), np.uint8), root / "train" / "B" / ".hidden.png")
    return root


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """Procedural demo data at 64 px (both layouts), generated once per session."""
    from apd_lightning.data.demo import make_demo_data

    out = tmp_path_factory.mktemp("demo")
    make_demo_data(out, size=64, count=16, seed=0, progress=False)
    return out


@pytest.fixture
def one_thread():
    """Tiny tensors: one intra-op thread is much faster than several on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def one_thread_and_restored_determinism(one_thread):
    """One intra-op thread; undo ``--trainer.deterministic true`` of an in-process run afterwards."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replace the offline loaders of ``apd_lightning.metrics.suite``; records the paths each was given."""
    from apd_lightning.metrics import suite

    calls: dict[str, list] = {"inception": [], "alexnet": [], "quality": []}

    def fake(kind: str, build):
        def load(path=None):
            calls[kind].append(path)
            return build()

        return load

    monkeypatch.setattr(suite, "load_inception_features", fake("inception", TinyFeatures))
    monkeypatch.setattr(suite, "build_lpips", fake("alexnet", TinyLPIPS))
    monkeypatch.setattr(suite, "load_quality_net", fake("quality", tiny_quality_net))
    return calls


@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache, so "not found in the hub cache" holds whatever the machine has."""
    hub = tmp_path / "torch_home"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub / "hub"))
    return hub


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
