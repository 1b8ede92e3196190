"""Lightning callbacks."""

from .image_grid import ImageGridLogger, drawing_grid
from .prediction_writer import DrawingWriter

__all__ = ["DrawingWriter", "ImageGridLogger", "drawing_grid"]

from .validation_metrics import ValidationMetrics  # noqa: E402

__all__ += ["ValidationMetrics"]

# fault tolerance: atomic writes, a checkpoint on SIGTERM, exact resume (registered by default by the CLI)
from .faults import AtomicCheckpointIO, PreemptionCheckpoint, RandomStateCheckpoint  # noqa: E402

__all__ += ["AtomicCheckpointIO", "PreemptionCheckpoint", "RandomStateCheckpoint"]

from .true_drawings import TrueDrawingScores  # noqa: E402

__all__ += ["TrueDrawingScores"]
