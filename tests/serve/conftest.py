"""Fixtures of the web-server tests: a fake Drawer (the ``apd_lightning.draw.Drawer`` interface, no model, no
MediaPipe), photos encoded in memory, and an app built on fake drawers."""

from __future__ import annotations

import io
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
