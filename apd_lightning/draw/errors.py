"""The errors of drawing a photo. ``str(error)`` is always one human-readable line (file names, never full paths
or stack traces), so that a command line, a report or a web page can show it as it is."""

from __future__ import annotations


class DrawError(Exception):
    """Base class: a photo or a model file that cannot be drawn with, for a reason the user can act on."""


class NoFaceError(DrawError):
    """No face was found in the photo."""


class UnreadableImageError(DrawError):
    """The input is not a readable image (or not a file)."""


class ImageTooLargeError(DrawError):
    """The image has more pixels than allowed (checked from the file header, before decoding)."""


class ModelFileError(DrawError):
    """A checkpoint or ONNX file that is missing, unreadable, or of something other than a drawing model."""
