"""Fixtures of the web-server tests: a fake Drawer (the ``apd_lightning.draw.Drawer`` interface, no model, no
MediaPipe), photos encoded in memory, and an app built on fake drawers."""

from __future__ import annotations

import io
import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")

from apd_lightning.draw import DrawResult, FaceDrawing, NoFaceError, StyleError, read_photo  # noqa: E402


def encode(array: np.ndarray, format: str = "PNG", **options) -> bytes:
    """An image array encoded in memory."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format, **options)
    return buffer.getvalue()


def textured_photo(height: int = 96, width: int = 80, seed: int = 0) -> np.ndarray:
    """A (H, W, 3) uint8 photo with texture: the fake drawer finds a 'face' in it."""
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


class FakeDrawer:
    """The Drawer interface with a trivial 'model': the drawing is the photo's gray levels divided by the style's
    number (so each style gives a different image); a photo of one flat colour has no face.

    ``gate``: when given, every draw waits for it (to hold the model busy). ``calls`` records the styles drawn and
    ``overlap`` the most calls that ran at once (must stay 1: the server serialises calls per Drawer).
    """

    def __init__(self, kind: str = "qmupd", gate: threading.Event | None = None, fail: Exception | None = None):
        self.kind = kind
        self.image_size = 64
        self.style_names = () if kind == "apdrawinggan" else ("style1", "style2", "style3")
        self.source = f"/somewhere/private/{kind}.ckpt"
        self.gate, self.fail = gate, fail
        self.calls: list = []
        self.overlap = self._running = 0
        self._lock = threading.Lock()

    def draw(self, image, styles=None, *, all_faces=False, frame="original") -> DrawResult:
        with self._lock:
            self._running += 1
            self.overlap = max(self.overlap, self._running)
        try:
            return self._draw(image, styles, all_faces, frame)
        finally:
            with self._lock:
                self._running -= 1

    def _draw(self, image, styles, all_faces, frame) -> DrawResult:
        start = time.perf_counter()
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        photo = np.asarray(image) if isinstance(image, np.ndarray) else read_photo(image)
        self.calls.append((styles, all_faces, frame))
        if photo.std() == 0:
            raise NoFaceError(f"{getattr(image, 'name', 'photo')}: no face found")
        if (styles is None) != (self.kind == "apdrawinggan"):
            raise StyleError(f"styles {styles!r} do not fit a {self.kind} model")
        name, divisor = "drawing", 1
        if styles is not None:
            name = f"style{styles}" if styles.isdigit() else "mix_" + styles.replace(":", "_")
            divisor = int(styles) if styles.isdigit() else 4
        height, width = photo.shape[:2]
        drawing = (photo.mean(2) / divisor).astype(np.uint8)
        if frame == "aligned":
            drawing = np.full((self.image_size, self.image_size), 128 // divisor, np.uint8)
        faces = [FaceDrawing((0.0, 0.0, float(width), float(height)), {name: drawing})]
        if all_faces:  # a second, lighter 'face'
            faces.append(FaceDrawing((0.0, 0.0, width / 2, height / 2), {name: np.maximum(drawing, 200)}))
        seconds = time.perf_counter() - start
        timings = dict.fromkeys(("decode", "detect", "align", "mask", "model", "warp"), seconds / 6)
        return DrawResult((width, height), faces, {**timings, "total": seconds})


@pytest.fixture
def fake_drawers() -> dict[str, FakeDrawer]:
    return {"qmupd": FakeDrawer("qmupd"), "apdrawinggan": FakeDrawer("apdrawinggan")}


@pytest.fixture
def client(fake_drawers):
    from fastapi.testclient import TestClient

    from apd_lightning.serve import ServeSettings, create_app

    app = create_app(fake_drawers, ServeSettings(max_upload_bytes=2**20, max_pixels=200_000, note="test note"))
    with TestClient(app) as test_client:
        yield test_client


# ---- real models: tiny checkpoints trained for a few steps, a real portrait ------------------------------------
def _fit_and_save(model, datamodule, path, root) -> None:
    from tests.builders import quiet_trainer

    trainer = quiet_trainer(max_steps=3, default_root_dir=str(root))
    trainer.fit(model, datamodule=datamodule)
    trainer.save_checkpoint(path)


@pytest.fixture(scope="session")
def tiny_checkpoints(demo_root, tmp_path_factory) -> dict[str, str]:
    """``{"apdrawinggan": path, "qmupd": path}``: 64-px models of tiny widths after 3 training steps on the demo
    data (checkpoints as ``fit`` writes them)."""
    import torch

    from apd_lightning.data import APDrawingDataModule, UnpairedDataModule
    from apd_lightning.models import QMUPD, APDrawingGAN
    from apd_lightning.nets import (
        APDrawingDiscriminators,
        HierarchicalGenerator,
        QMUPDDiscriminators,
        ResnetGenerator,
        StyleGenerator,
    )

    out = tmp_path_factory.mktemp("serve_ckpts")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster on the shared 2-core machine
    torch.manual_seed(0)
    try:
        apdrawinggan = APDrawingGAN(
            HierarchicalGenerator(64, 4, 4, 4), APDrawingDiscriminators(64, 4, local_num_layers=2)
        )
        paired = APDrawingDataModule(str(demo_root / "apdrawing"), image_size=64, batch_size=2, num_workers=0)
        _fit_and_save(apdrawinggan, paired, out / "apdrawinggan.ckpt", out)
        qmupd = QMUPD(
            StyleGenerator(base_channels=4, num_blocks=1),
            ResnetGenerator(base_channels=4, num_blocks=1),
            QMUPDDiscriminators(64, base_channels=4),
            auxiliaries="random_init",
            random_auxiliary_width=4,
        )
        unpaired = UnpairedDataModule(str(demo_root / "unpaired"), image_size=64, batch_size=2, num_workers=0)
        _fit_and_save(qmupd, unpaired, out / "qmupd.ckpt", out)
    finally:
        torch.set_num_threads(threads)
    return {"apdrawinggan": str(out / "apdrawinggan.ckpt"), "qmupd": str(out / "qmupd.ckpt")}


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """A real portrait MediaPipe finds a face in: scikit-image's astronaut, padded to 640 × 512 (W × H) so that
    a drawing of the wrong size or orientation shows."""
    data = pytest.importorskip("skimage.data", reason="scikit-image (dev extra) provides the test portrait")
    photo = data.astronaut()
    return np.pad(photo, ((0, 0), (64, 64), (0, 0)), mode="edge")


TEST_NOTE = "Tiny test models: the drawings are grey squares."


@pytest.fixture(scope="session")
def demo_server(request, tmp_path_factory):
    """``serve`` in a child process with both tiny models (the APDrawingGAN first), a note, on a free port.

    ``APD_SERVE_CKPTS=A.ckpt,B.ckpt`` serves those checkpoints instead, as ``make serve`` does (``--demo``): how the
    README's screenshot is made from the ``make demo`` models (only the browser tests make sense then).
    """
    from .server import ServerProcess

    log = tmp_path_factory.mktemp("serve_log") / "serve.log"
    given = [path for path in os.environ.get("APD_SERVE_CKPTS", "").split(",") if path]
    if given:
        args = [word for path in given for word in ("--ckpt", path)] + ["--demo"]
    else:
        checkpoints = request.getfixturevalue("tiny_checkpoints")
        args = ["--ckpt", checkpoints["apdrawinggan"], "--ckpt", checkpoints["qmupd"], "--note", TEST_NOTE]
    server = ServerProcess(args, log)
    yield server
    assert server.stop() == 0, server.log_tail()
