"""Any photo in, a drawing out: :class:`Drawer` (Python), ``python -m apd_lightning draw`` (command line) and
``python -m apd_lightning export`` (ONNX).

Example:
    >>> from apd_lightning.draw import Drawer
    >>> with Drawer("last.ckpt") as drawer:  # doctest: +SKIP
    ...     result = drawer.draw("photo.jpg")
    ...     drawing = result.faces[0].drawings["drawing"]  # (H, W) uint8, the photo's own frame and size
"""

from .drawer import STAGES, Drawer, DrawResult, FaceDrawing, StyleError, to_uint8
from .errors import DrawError, ImageTooLargeError, ModelFileError, NoFaceError, UnreadableImageError
from .photo import DEFAULT_MAX_PIXELS, Photo, open_photo, read_photo

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "STAGES",
    "DrawError",
    "DrawResult",
    "Drawer",
    "FaceDrawing",
    "ImageTooLargeError",
    "ModelFileError",
    "NoFaceError",
    "Photo",
    "StyleError",
    "UnreadableImageError",
    "open_photo",
    "read_photo",
    "to_uint8",
]
