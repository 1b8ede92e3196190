"""torchmetrics metrics."""

from .chamfer import ChamferDistance, chamfer_distance

__all__ = ["ChamferDistance", "chamfer_distance"]
