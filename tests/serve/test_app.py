"""The HTTP API on fake drawers: answers, status codes of every limit, headers, nothing written to disk."""

from __future__ import annotations

import base64
import builtins
import io
import struct
import tempfile
import zlib

import numpy as np
import pytest
from PIL import Image

from .conftest import FakeDrawer, encode, textured_photo


def post(client, photo: bytes | None, name: str = "photo.png", query: str = "", **fields):
    files = {"photo": (name, photo, "application/octet-stream")} if photo is not None else None
    data = {key: value for key, value in fields.items() if value is not None}
    if files is None:  # a form without a file part still goes as multipart
        files = {"other": ("x.txt", b"x", "text/plain")}
    return client.post(f"/api/draw{query}", files=files, data=data)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR announcing ``width × height`` pixels, followed by a tiny broken IDAT: decoding it
    would fail, so a 413 proves the size was read from the header."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\x00" * 16) + chunk(b"IEND", b"")


def test_draw_returns_a_png_of_the_photo_size_with_headers(client):
    photo = textured_photo(96, 80)
    response = post(client, encode(photo), name="me.jpg", model="qmupd", style="2")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    drawing = np.asarray(Image.open(io.BytesIO(response.content)))
    assert drawing.shape == (96, 80)  # (H, W) of the photo, grayscale
    np.testing.assert_array_equal(drawing, (photo.mean(2) / 2).astype(np.uint8))  # the fake's style-2 drawing
    assert response.headers["x-face-count"] == "1"
    assert response.headers["x-style"] == "style2"
    assert response.headers["x-photo-size"] == "80x96"
    assert 'filename="me_style2.png"' in response.headers["content-disposition"]
    stages = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    assert {"queue", "decode", "detect", "align", "mask", "model", "warp", "total", "encode"} <= set(stages)
    assert all(float(ms) >= 0 for ms in stages.values())


def test_styles_give_different_drawings_and_a_mix_is_accepted(client, fake_drawers):
    photo = encode(textured_photo())
    drawings = {s: post(client, photo, style=s).content for s in ("1", "style3", "0.2:0.3:0.5", "2:2:0")}
    assert len(set(drawings.values())) == 3  # the two mixes draw alike (the fake does not look at the weights)
    # the first model is the default; mixes are scaled to sum 1
    assert [call[0] for call in fake_drawers["qmupd"].calls] == ["1", "3", "0.2:0.3:0.5", "0.5:0.5:0"]


def test_json_format_carries_the_png_boxes_and_timings(client):
    response = post(client, encode(textured_photo(50, 60)), query="?format=json&all_faces=true", model="qmupd")
    body = response.json()
    assert response.status_code == 200 and body["face_count"] == 2 and body["size"] == [60, 50]
    assert body["faces"][0]["box"] == [0.0, 0.0, 60.0, 50.0] and body["style"] == "style1"
    assert set(body["timings"]) >= {"queue", "model", "total", "encode"}
    drawing = Image.open(io.BytesIO(base64.b64decode(body["png_base64"])))
    assert drawing.format == "PNG" and drawing.size == (60, 50)


def test_aligned_frame_gives_the_models_square(client):
    response = post(client, encode(textured_photo(96, 80)), query="?frame=aligned", model="apdrawinggan")
    assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (64, 64)


def test_models_and_health(client):
    info = client.get("/api/models").json()
    assert [m["name"] for m in info["models"]] == ["qmupd", "apdrawinggan"]
    assert info["models"][0]["styles"] == ["style1", "style2", "style3"] and info["models"][1]["styles"] == []
    assert info["models"][0]["source"] == "qmupd.ckpt"  # the file name, never the server's path
    assert info["note"] == "test note" and info["limits"] == {"max_upload_bytes": 2**20, "max_pixels": 200_000}
    assert client.get("/healthz").json() == {"status": "ok", "models": ["qmupd", "apdrawinggan"]}


def test_page_and_its_assets_are_served_without_outside_resources(client):
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert 'id="photo-input"' in page.text and "http" not in page.text.split("<body>")[0].replace("http-equiv", "")
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "://" not in response.text  # no outside URL
    assert client.get("/openapi.json").json()["paths"]["/api/draw"]["post"]["requestBody"]["required"]


@pytest.mark.parametrize(
    ("photo", "fields", "status", "words"),
    [
        (b"hello, I am text\n" * 10, {}, 415, "photo.png: not a readable image"),
        (encode(np.full((40, 40, 3), 200, np.uint8)), {}, 422, "photo.png: no face found"),
        (png_header_only(500, 500), {}, 413, "megapixels"),  # 0.25 MP > the fixture's 0.2 MP limit
        (png_header_only(60_000, 60_000), {}, 413, "megapixels"),  # beyond Pillow's own bomb limit
        (encode(textured_photo()), {"model": "nope"}, 400, "Unknown model"),
        (encode(textured_photo()), {"style": "7"}, 400, "Styles run from 1 to 3"),
        (encode(textured_photo()), {"style": "1:-1:1"}, 400, "non-negative weights"),
        (encode(textured_photo()), {"style": "0:0:0"}, 400, "non-negative weights"),
        (encode(textured_photo()), {"model": "apdrawinggan", "style": "1"}, 400, "no styles"),
        (None, {}, 400, "Choose a photo"),
    ],
)
def test_refusals_have_their_status_and_a_reason_in_words(client, photo, fields, status, words):
    response = post(client, photo, **fields)
    assert response.status_code == status
    assert words in response.json()["detail"] and "Traceback" not in response.text


def test_uploads_over_the_limit_are_refused_with_413(client):
    big = b"\xff\xd8" + bytes(2**20)  # 1 MB + 2 bytes: over the fixture's 1 MB limit
    response = post(client, big, name="big.jpg")
    assert response.status_code == 413 and "larger than 1 MB" in response.json()["detail"]
    # an announced length over the limit is refused before the body is read
    announced = client.post(
        "/api/draw",
        content=b"x",
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": "999999999"},
    )
    assert announced.status_code == 413


def test_the_uploaded_file_name_is_reduced_to_a_harmless_base_name(client):
    response = post(client, b"plain text", name="../../etc/pa ss<wd>.txt")
    assert response.status_code == 415
    assert response.json()["detail"].startswith("pa_ss_wd_.txt: not a readable image")
    drawn = post(client, encode(textured_photo()), name="C:\\Users\\me\\holiday photo.jpg", style="2")
    assert 'filename="holiday_photo_style2.png"' in drawn.headers["content-disposition"]


def test_bad_requests_are_400(client):
    assert client.post("/api/draw", content=b"photo", headers={"content-type": "image/png"}).status_code == 400
    assert post(client, encode(textured_photo()), query="?format=gif").status_code == 400
    assert post(client, encode(textured_photo()), query="?all_faces=maybe").status_code == 400


def test_a_failing_drawer_gives_500_and_the_server_keeps_serving(fake_drawers):
    from fastapi.testclient import TestClient

    from apd_lightning.serve import create_app

    broken = FakeDrawer(fail=RuntimeError("CUDA exploded at /secret/path"))
    with TestClient(create_app({"broken": broken, **fake_drawers})) as client:
        response = post(client, encode(textured_photo()), model="broken")
        assert response.status_code == 500 and "/secret/path" not in response.text
        assert post(client, encode(textured_photo()), model="qmupd").status_code == 200
        assert client.get("/healthz").status_code == 200


def test_nothing_is_written_to_disk(client, monkeypatch):
    """A 600 kB photo (Starlette's own form parser would spool parts over 1 MB to a temporary file; ours never)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the server wrote to disk: {args[:1]}")

    real_open = builtins.open

    def open_for_reading_only(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr(builtins, "open", open_for_reading_only)
    photo = encode(textured_photo(400, 500, seed=3))
    assert len(photo) > 500_000
    response = post(client, photo, model="qmupd")
    assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (500, 400)
