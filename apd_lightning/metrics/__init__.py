"""torchmetrics metrics for drawings in [-1, 1]: chamfer, FID, KID, LPIPS, the QMUPD quality score and the
independent style judge's accuracy."""

from .chamfer import ChamferDistance, chamfer_distance
from .fid import DrawingFID
from .inception import FIDInceptionV3, load_inception_features
from .inputs import drawing_to_unit_rgb
from .kid import DrawingKID
from .lpips import DrawingLPIPS, build_lpips_net, load_lpips_net
from .quality import QualityScore
from .style_judge import JudgedStyleAccuracy
from .suite import METRIC_NAMES, build_metrics

__all__ = [
    "METRIC_NAMES",
    "ChamferDistance",
    "DrawingFID",
    "DrawingKID",
    "DrawingLPIPS",
    "FIDInceptionV3",
    "JudgedStyleAccuracy",
    "QualityScore",
    "build_lpips_net",
    "build_metrics",
    "chamfer_distance",
    "drawing_to_unit_rgb",
    "load_inception_features",
    "load_lpips_net",
]
