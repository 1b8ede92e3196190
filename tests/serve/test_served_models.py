"""``serve`` in a child process with two tiny real models (MediaPipe, the Drawer): answers, limits, load, memory.

Every request goes to 127.0.0.1 and has a timeout; the load tests send a fixed number of requests.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from .conftest import encode
from .test_app import png_header_only

TIMEOUT = httpx.Timeout(120.0)


def draw(url: str, photo: bytes, name: str = "portrait.jpg", **fields) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        return client.post("/api/draw", files={"photo": (name, photo)}, data=fields)


@pytest.fixture(scope="module")
def portrait_jpeg(portrait) -> bytes:
    return encode(portrait, "JPEG", quality=90)


def test_real_models_draw_the_photo_at_its_size_in_every_style(demo_server, portrait, portrait_jpeg):
    with httpx.Client(base_url=demo_server.url, timeout=TIMEOUT) as client:
        info = client.get("/api/models").json()
    assert [(m["name"], m["kind"], m["image_size"]) for m in info["models"]] == [
        ("apdrawinggan", "apdrawinggan", 64),
        ("qmupd", "qmupd", 64),
    ]
    answer = draw(demo_server.url, portrait_jpeg, model="apdrawinggan")
    assert answer.status_code == 200, answer.text
    drawing = np.asarray(Image.open(io.BytesIO(answer.content)))
    assert drawing.shape == portrait.shape[:2] and answer.headers["x-face-count"] == "1"
    assert (drawing < 250).mean() > 0.01 and (drawing == 255).mean() > 0.3  # the face drawn, white elsewhere
    stages = {part.split(";")[0].strip() for part in answer.headers["server-timing"].split(",")}
    assert {"queue", "decode", "detect", "align", "mask", "model", "warp", "total", "encode"} <= stages
    drawings = {}
    for style in ("1", "3", "0.5:0.5:0"):
        answer = draw(demo_server.url, portrait_jpeg, model="qmupd", style=style)
        assert answer.status_code == 200, answer.text
        drawings[answer.headers["x-style"]] = np.asarray(Image.open(io.BytesIO(answer.content)), np.int16)
    assert sorted(drawings) == ["mix_0.5_0.5_0", "style1", "style3"]
    assert np.abs(drawings["style1"] - drawings["style3"]).max() > 0


def test_exif_orientation_and_refusals(demo_server, portrait):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated by 90°
    buffer = io.BytesIO()
    Image.fromarray(np.rot90(portrait, 1).copy()).save(buffer, "JPEG", exif=exif)
    answer = draw(demo_server.url, buffer.getvalue(), model="qmupd")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-photo-size"] == "640x512"
    assert Image.open(io.BytesIO(answer.content)).size == (640, 512)
    for photo, status, words in (
        (b"%PDF-1.4 not a photo", 415, "not a readable image"),
        (encode(np.full((200, 300, 3), 90, np.uint8)), 422, "no face found"),
        (png_header_only(60_000, 60_000), 413, "megapixels"),
        (png_header_only(8000, 7000), 413, "56.0 megapixels"),  # over 50 MP
    ):
        answer = draw(demo_server.url, photo, name="upload.png", model="apdrawinggan")
        assert answer.status_code == status and words in answer.json()["detail"], answer.text
    with httpx.Client(base_url=demo_server.url, timeout=TIMEOUT) as client:
        too_big = client.post("/api/draw", files={"photo": ("big.jpg", b"\xff\xd8" + bytes(21 * 2**20))})
        assert too_big.status_code == 413 and "20 MB" in too_big.json()["detail"]
        assert client.get("/healthz").json()["status"] == "ok"  # still serving


def test_40_concurrent_requests_on_one_model_are_drawn_or_refused_never_lost(demo_server, portrait_jpeg):
    """All at once (a barrier): the model draws one at a time with 4 waiting, so most are refused at once with
    503 and Retry-After; the 5 admitted first are drawn."""
    start = threading.Barrier(40)

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=demo_server.url, timeout=TIMEOUT) as client:
            start.wait(60)
            return client.post("/api/draw", files={"photo": ("p.jpg", portrait_jpeg)}, data={"model": "qmupd"})

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(send, range(40)))
    codes = [answer.status_code for answer in answers]
    assert len(codes) == 40 and set(codes) <= {200, 503}, codes
    assert codes.count(200) >= 5 and codes.count(503) >= 1, codes
    for answer in answers:
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) >= 1 and "busy" in answer.json()["detail"]
        else:
            assert Image.open(io.BytesIO(answer.content)).size == (640, 512)
    assert draw(demo_server.url, portrait_jpeg, model="qmupd").status_code == 200  # serving as before


@pytest.mark.slow
def test_memory_after_200_requests_stays_within_10_percent_of_after_20(demo_server, portrait_jpeg):
    """4 clients (within the queue, so every request is drawn), 200 requests; the server's RSS is read after the
    first 20 and after all 200."""

    def client_run(count: int) -> list[int]:
        with httpx.Client(base_url=demo_server.url, timeout=TIMEOUT) as client:
            return [
                client.post(
                    "/api/draw", files={"photo": ("p.jpg", portrait_jpeg)}, data={"model": "apdrawinggan"}
                ).status_code
                for _ in range(count)
            ]

    with ThreadPoolExecutor(4) as pool:
        first = [code for codes in pool.map(client_run, [5] * 4) for code in codes]
        after_20 = demo_server.rss_mb()
        rest = [code for codes in pool.map(client_run, [45] * 4) for code in codes]
        after_200 = demo_server.rss_mb()
    assert first + rest == [200] * 200
    assert abs(after_200 - after_20) <= 0.10 * after_20, (after_20, after_200)
    print(f"server RSS: {after_20:.0f} MiB after 20 requests, {after_200:.0f} MiB after 200")


@pytest.mark.slow  # the ONNX export (with its check against PyTorch) takes tens of seconds
def test_an_exported_onnx_model_is_served_like_a_checkpoint(tiny_checkpoints, portrait, tmp_path):
    """``serve --onnx``: the Drawer runs the network with ONNX Runtime; the page and API do not change."""
    pytest.importorskip("onnxruntime", reason="the export extra is not installed")
    from fastapi.testclient import TestClient

    from apd_lightning.draw import Drawer
    from apd_lightning.draw.export import export_onnx
    from apd_lightning.serve import create_app

    onnx = export_onnx(tiny_checkpoints["qmupd"], tmp_path / "qmupd.onnx").path
    with Drawer(onnx=onnx) as drawer, TestClient(create_app({"exported": drawer})) as client:
        assert client.get("/api/models").json()["models"][0] == {
            "name": "exported",
            "kind": "qmupd",
            "image_size": 64,
            "styles": ["style1", "style2", "style3"],
            "source": "qmupd.onnx",
        }
        answer = client.post("/api/draw", files={"photo": ("p.png", encode(portrait))}, data={"style": "2"})
        assert answer.status_code == 200, answer.text
        assert Image.open(io.BytesIO(answer.content)).size == (640, 512) and answer.headers["x-style"] == "style2"
