"""Reading an upload in memory: the request body with a size limit, its multipart fields, the image header.

Nothing here touches the disk. Starlette's own form parser spools file parts larger than 1 MB to a temporary
file; we parse the (size-limited) body in memory with python-multipart's streaming parser instead.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

from PIL import Image
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from ..draw import ImageTooLargeError, UnreadableImageError

#: Room for the multipart boundaries, part headers and the small text fields next to the photo.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FIELDS = 16


class UploadError(Exception):
    """A request the server refuses before drawing; ``status`` is the HTTP status, ``str(error)`` the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Form:
    """The fields of a ``multipart/form-data`` body: text values, and file parts as bytes with their names."""

    values: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)


def megabytes(size: int) -> str:
    """``20971520`` -> ``"20 MB"`` (MiB, written the way people read it)."""
    return f"{size / 2**20:g} MB"


async def read_body(request: Request, max_photo_bytes: int, overhead: int = FORM_OVERHEAD_BYTES) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``max_photo_bytes + overhead`` (before reading it
    when the client announces a larger length)."""
    limit, message = max_photo_bytes + overhead, f"The upload is larger than {megabytes(max_photo_bytes)}."
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise UploadError(413, message)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UploadError(413, message)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(body: bytes, content_type: str | None) -> Form:
    """Split a ``multipart/form-data`` body into text fields and file parts, in memory.

    Raises:
        UploadError: 400 when the body is not multipart form data or has more than ``MAX_FIELDS`` parts.
    """
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(400, "Send the photo as multipart/form-data (a form with a 'photo' file field).")
    form, parts = Form(), []
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        if len(parts) >= MAX_FIELDS:
            raise UploadError(400, f"The form has more than {MAX_FIELDS} fields.")
        parts.append({"headers": {}, "data": []})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        parts[-1]["headers"][header[0].lower()] = header[1]
        header[:] = [b"", b""]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["data"].append(data[start:end])

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except UploadError:
        raise
    except Exception as error:  # python-multipart's parse errors
        raise UploadError(400, f"The form data could not be parsed ({type(error).__name__}).") from error
    for part in parts:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition"))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        data = b"".join(part["data"])
        if b"filename" in disposition:
            form.files[name] = data
            form.filenames[name] = disposition[b"filename"].decode("utf-8", "replace")
        else:
            form.values[name] = data.decode("utf-8", "replace")
    return form


def probe_image(data: bytes, max_pixels: int, name: str = "photo") -> tuple[int, int]:
    """``(width, height)`` from the image header alone, so that a huge or broken file is refused before it waits
    for the model (the ``Drawer`` checks the header again when it decodes). Messages start with ``name``.

    Raises:
        UnreadableImageError: ``data`` is not an image Pillow can open.
        ImageTooLargeError: ``width * height > max_pixels``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{name}: more than the limit of {max_pixels / 1e6:g} megapixels") from None
    except Exception:
        raise UnreadableImageError(f"{name}: not a readable image (JPEG, PNG, WebP, BMP or TIFF)") from None
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}×{height} = {width * height / 1e6:.1f} megapixels, more than the limit of "
            f"{max_pixels / 1e6:g} megapixels"
        )
    return width, height
