"""Lightning callbacks."""

from .image_grid import ImageGridLogger, drawing_grid
from .prediction_writer import DrawingWriter

__all__ = ["DrawingWriter", "ImageGridLogger", "drawing_grid"]
