"""The FastAPI app: the page, ``POST /api/draw``, ``GET /api/models``, ``GET /healthz``.

Build it with :func:`create_app` from already loaded drawers (``apd_lightning.draw.Drawer`` or anything with
its interface); ``python -m apd_lightning serve`` loads the drawers and runs it with uvicorn.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ..draw import DEFAULT_MAX_PIXELS, DrawError, ImageTooLargeError, NoFaceError, StyleError, UnreadableImageError
from .drawing import FRAMES, Drawn, draw_png, parse_style
from .slots import Busy, ModelSlot
from .uploads import UploadError, megabytes, parse_form, probe_image, read_body

log = logging.getLogger("apd_lightning.serve")

# The page loads nothing from elsewhere; blob: and data: are the photo preview and the drawing.
PAGE_SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ERROR_STATUS = (
    (NoFaceError, 422),
    (UnreadableImageError, 415),
    (ImageTooLargeError, 413),
    (StyleError, 400),
    (DrawError, 422),
)
DRAW_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["photo"],
                    "properties": {
                        "photo": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP, BMP, TIFF"},
                        "model": {"type": "string", "description": "a name from GET /api/models (default: first)"},
                        "style": {"type": "string", "description": "QMUPD/UPD: 1, 2, 3 or weights '0.5:0.5:0'"},
                    },
                }
            }
        },
    },
    "responses": {
        "200": {"description": "the drawing", "content": {"image/png": {}, "application/json": {}}},
        "400": {"description": "bad form, model or style"},
        "413": {"description": "upload or image too large"},
        "415": {"description": "not an image"},
        "422": {"description": "no face found"},
        "503": {"description": "the model's queue is full; see Retry-After"},
    },
}


@dataclass
class ServeSettings:
    """Limits of the server.

    Args:
        max_upload_bytes: largest photo file accepted (413 above).
        max_pixels: largest photo accepted after decoding, read from its header (413 above).
        queue_size: requests that may wait per model behind the one being drawn (503 beyond).
        note: a sentence the page shows under its title (e.g. what the served models were trained on).
    """

    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = DEFAULT_MAX_PIXELS
    queue_size: int = 4
    note: str = ""


def model_info(name: str, drawer: Any) -> dict[str, Any]:
    """What ``GET /api/models`` says about one model (the file name only, never the full path)."""
    return {
        "name": name,
        "kind": drawer.kind,
        "image_size": int(drawer.image_size),
        "styles": list(drawer.style_names),
        "source": Path(str(drawer.source)).name,
    }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"detail": message}`` with ``status``: the shape FastAPI gives its own errors."""
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def _safe_name(photo_name: str | None) -> str:
    """The uploaded file's name, reduced to a harmless base name (for messages and the download's name)."""
    base = Path((photo_name or "").replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[-80:].lstrip(".") or "photo"


def _flag(value: str | None) -> bool:
    if (value or "false").lower() in ("1", "true", "yes", "on"):
        return True
    if (value or "false").lower() in ("0", "false", "no", "off", ""):
        return False
    raise UploadError(400, f"Expected true or false, got {value!r}.")


def _answer(drawn: Drawn, model: str, filename: str, wait: float, as_json: bool) -> Response:
    timings = {"queue": wait, **drawn.timings}
    server_timing = ", ".join(f"{key};dur={1000 * value:.1f}" for key, value in timings.items())
    headers = {
        "X-Face-Count": str(len(drawn.boxes)),
        "X-Model": model,
        "X-Style": drawn.style,
        "X-Photo-Size": f"{drawn.size[0]}x{drawn.size[1]}",
        "Server-Timing": server_timing,
        "Cache-Control": "no-store",
    }
    if not as_json:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
        return Response(drawn.png, media_type="image/png", headers=headers)
    body = {
        "model": model,
        "style": drawn.style,
        "size": list(drawn.size),
        "face_count": len(drawn.boxes),
        "faces": [{"box": list(box)} for box in drawn.boxes],
        "timings": {key: round(value, 4) for key, value in timings.items()},
        "filename": filename,
        "png_base64": base64.b64encode(drawn.png).decode("ascii"),
    }
    return JSONResponse(body, headers=headers)


@dataclass
class DrawRequest:
    """A checked ``POST /api/draw``: which model, the photo's bytes and (reduced) file name, style, options."""

    model: str
    photo: bytes
    filename: str
    style: str | None
    all_faces: bool
    frame: str


async def read_draw_request(
    request: Request, drawers: Mapping[str, Any], settings: ServeSettings, format: str, frame: str, all_faces: str
) -> DrawRequest:
    """Read and check everything that can be checked before the model is involved (the photo's header too).

    Raises:
        UploadError: 400 / 413 with the reason. UnreadableImageError, ImageTooLargeError: from the header.
    """
    if format not in ("png", "json") or frame not in FRAMES:
        raise UploadError(400, f"format is png or json and frame is one of {FRAMES}.")
    every_face = _flag(all_faces)
    form = parse_form(await read_body(request, settings.max_upload_bytes), request.headers.get("content-type"))
    photo = form.files.get("photo")
    if photo is None:
        raise UploadError(400, "Choose a photo: the form needs a 'photo' file field.")
    if len(photo) > settings.max_upload_bytes:
        raise UploadError(413, f"The photo is larger than {megabytes(settings.max_upload_bytes)}.")
    model = form.values.get("model") or next(iter(drawers))
    if model not in drawers:
        raise UploadError(400, f"Unknown model {model!r}; served: {', '.join(drawers)}.")
    style = parse_style(form.values.get("style"), tuple(drawers[model].style_names))
    filename = _safe_name(form.filenames.get("photo"))
    probe_image(photo, settings.max_pixels, filename)
    return DrawRequest(model, photo, filename, style, every_face, frame)


def create_app(drawers: Mapping[str, Any], settings: ServeSettings | None = None) -> FastAPI:
    """The app serving ``drawers`` (name -> loaded ``Drawer``; the first is the default model)."""
    if not drawers:
        raise ValueError("create_app needs at least one drawer")
    settings = settings or ServeSettings()
    slots = {name: ModelSlot(name, settings.queue_size) for name in drawers}
    models = [model_info(name, drawer) for name, drawer in drawers.items()]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for slot in slots.values():
            slot.close()

    app = FastAPI(title="apd_lightning", summary="Portrait photo in, line drawing out.", lifespan=lifespan)
    app.state.slots = slots
    page = resources.files(__package__).joinpath("static", "index.html").read_text(encoding="utf-8")
    app.mount("/static", StaticFiles(packages=[(__package__, "static")]), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_SECURITY)

    @app.get("/healthz", summary="Liveness: the models served")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": list(drawers)}

    @app.get("/api/models", summary="The models served, their styles, the page's note and the limits")
    def list_models() -> dict[str, Any]:
        limits = {"max_upload_bytes": settings.max_upload_bytes, "max_pixels": settings.max_pixels}
        return {"models": models, "note": settings.note, "limits": limits}

    @app.post("/api/draw", summary="Draw the largest face of a photo", openapi_extra=DRAW_FORM)
    async def draw(
        request: Request, format: str = "png", frame: str = "original", all_faces: str = "false"
    ) -> Response:
        """Multipart ``photo`` (+ ``model``, ``style``) -> the drawing as PNG at the photo's size, with
        ``X-Face-Count``, ``X-Style`` and ``Server-Timing`` (milliseconds per stage) headers; ``?format=json``
        gives the same as JSON with the PNG in base64. ``?frame=aligned``: the model's aligned square instead.
        ``?all_faces=true``: every face, overlaid."""
        try:
            job = await read_draw_request(request, drawers, settings, format, frame, all_faces)
            admitted = time.perf_counter()
            drawn = await slots[job.model].run(
                draw_png, drawers[job.model], job.photo, job.filename, job.style, job.all_faces, job.frame
            )
        except UploadError as refused:
            return error(refused.status, str(refused))
        except Busy as busy:
            return error(503, str(busy), {"Retry-After": str(busy.retry_after)})
        except DrawError as failed:
            status = next(code for kind, code in ERROR_STATUS if isinstance(failed, kind))
            return error(status, str(failed))
        except Exception:
            log.exception("drawing failed")
            return error(500, "The drawing failed because of an error in the server; see the server's log.")
        download = f"{Path(job.filename).stem}_{drawn.style}.png"
        return _answer(drawn, job.model, download, drawn.started - admitted, format == "json")

    return app
