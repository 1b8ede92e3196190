"""The page in a real browser: Playwright driving Debian's Chromium (headless, no network) against ``serve`` with
two tiny real models in a child process.

Without Chromium at ``/usr/bin/chromium`` (or ``APD_CHROMIUM``) these tests skip, saying how to install it; with
``APD_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead. ``APD_SCREENSHOT=FILE.png`` also copies the
screenshot of the APDrawingGAN drawing there; with ``APD_SERVE_CKPTS`` (see ``demo_server``) that is how the
README's figure is made from the ``make demo`` models.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apd_lightning.serve.cli import DEMO_NOTE

from .conftest import TEST_NOTE, encode

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("APD_CHROMIUM", "/usr/bin/chromium"))
# The network is closed: no first-run, sync, component or background fetches.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",  # a synthetic webcam (a test pattern without a face)
    "--use-fake-ui-for-media-stream",  # grants the webcam without a prompt
]
INSTALL = "install Debian's Chromium (`sudo apt-get install chromium`) or point APD_CHROMIUM at a Chromium binary"


def _unavailable(reason: str):
    if os.environ.get("APD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (APD_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"{reason}; {INSTALL}")


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory, demo_server):
    """A fresh Chromium profile with the served page open and ready; console errors collected in ``page.errors``."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (dev extra)")
    profile = tmp_path_factory.mktemp("chromium_profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            accept_downloads=True,
            viewport={"width": 1280, "height": 600},
        )
        page = context.new_page()
        page.errors = []
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        page.on("pageerror", lambda failure: page.errors.append(str(failure)))
        page.set_default_timeout(60_000)
        page.goto(demo_server.url)
        page.wait_for_selector("body[data-ready=true]")
        yield page
        context.close()


def unexpected_errors(page) -> list[str]:
    """Console errors other than Chromium's note on each refused request (a CSP violation or a script error)."""
    refused = "Failed to load resource: the server responded with a status of 4"
    return [error for error in page.errors if not error.startswith(refused)]


def shown_drawing(page) -> np.ndarray:
    """The drawing the page shows, read back through a canvas: (H, W) uint8 at its natural size."""
    data = page.evaluate(
        """() => {
            const img = document.getElementById("drawing-view");
            const canvas = document.createElement("canvas");
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            canvas.getContext("2d").drawImage(img, 0, 0);
            const url = canvas.toDataURL("image/png");
            return url.slice(url.indexOf(",") + 1);
        }"""
    )
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"))


def draw_and_wait(page, click: str = "#draw") -> None:
    """Click, then wait until the page shows a new drawing or an error."""
    page.evaluate("() => { window.__before = document.getElementById('drawing-view').src; }")
    page.click(click)
    page.wait_for_function(
        """() => {
            const img = document.getElementById("drawing-view");
            const fresh = !img.hidden && img.src !== window.__before && img.complete && img.naturalWidth > 0;
            return fresh || !document.getElementById("error").hidden;
        }"""
    )


def test_photo_in_drawing_out_styles_download_and_errors(browser_page, portrait, tmp_path):
    page = browser_page
    note = DEMO_NOTE if os.environ.get("APD_SERVE_CKPTS") else TEST_NOTE
    assert page.inner_text("#note") == note
    page.select_option("#model", "qmupd")
    assert page.is_visible("#styles") and page.get_attribute("[data-style='1']", "aria-pressed") == "true"
    photo_path = tmp_path / "astronaut.png"
    Image.fromarray(portrait).save(photo_path)
    page.set_input_files("#photo-input", str(photo_path))
    draw_and_wait(page)
    assert page.is_hidden("#error"), page.inner_text("#error")
    first = shown_drawing(page)
    assert first.shape == portrait.shape[:2]  # the photo's own size (640 × 512)
    assert first.std() > 5 and (first < 200).mean() > 0.01 and (first > 250).mean() > 0.3  # lines on white
    assert page.inner_text("#status").startswith("Drawn in")

    draw_and_wait(page, "[data-style='2']")  # another style draws again at once
    second = shown_drawing(page)
    assert second.shape == first.shape and np.abs(second.astype(int) - first).max() > 0
    assert page.get_attribute("[data-style='2']", "aria-pressed") == "true"

    with page.expect_download() as download:
        page.click("#download")
    saved = Path(download.value.path())
    assert download.value.suggested_filename == "astronaut_style2.png"
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(np.asarray(Image.open(saved)), second)

    screenshot = tmp_path / "page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert Image.open(screenshot).size[0] == 1280

    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    page.set_input_files("#photo-input", str(notes))
    draw_and_wait(page)
    assert "notes.txt: not a readable image" in page.inner_text("#error")
    assert page.is_hidden("#drawing-view") and "Traceback" not in page.content()
    assert unexpected_errors(page) == []


def test_drop_paste_webcam_and_the_other_model(browser_page, portrait, tmp_path):
    page = browser_page
    page.select_option("#model", "apdrawinggan")
    assert page.is_hidden("#styles")
    # drop a JPEG on the drop zone, as a file manager would
    jpeg = base64.b64encode(encode(portrait, "JPEG", quality=90)).decode()
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        jpeg,
    )
    assert "dropped.jpg" in page.inner_text("#photo-name")
    draw_and_wait(page)
    assert page.is_hidden("#error"), page.inner_text("#error")
    assert shown_drawing(page).shape == portrait.shape[:2]
    assert "apdrawinggan" in page.inner_text("#drawing-caption")
    screenshot = tmp_path / "page_apdrawinggan.png"
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("APD_SCREENSHOT"):  # the README's figure
        shutil.copyfile(screenshot, os.environ["APD_SCREENSHOT"])

    # paste a flat grey image: no face, said in words
    flat = base64.b64encode(encode(np.full((120, 160, 3), 128, np.uint8))).decode()
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "grey.png", { type: "image/png" }));
            document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true }));
        }""",
        flat,
    )
    draw_and_wait(page)
    assert "grey.png: no face found" in page.inner_text("#error")

    # the webcam (Chromium's synthetic camera shows no face): snapshot, draw, the reason in words
    page.click("#webcam-open")
    page.wait_for_function("() => document.getElementById('camera').videoWidth > 0")
    page.click("#webcam-snap")  # the snapshot is encoded asynchronously (canvas.toBlob)
    page.wait_for_function("() => document.getElementById('photo-name').textContent.includes('webcam.png')")
    assert page.is_hidden("#webcam")
    draw_and_wait(page)
    assert "webcam.png: no face found" in page.inner_text("#error")
    assert unexpected_errors(page) == []
