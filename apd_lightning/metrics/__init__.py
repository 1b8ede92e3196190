"""torchmetrics metrics for drawings in [-1, 1]: chamfer, FID, KID, LPIPS, the QMUPD quality score and the
independent style judge's accuracy."""

from .chamfer import ChamferDistance, chamfer_distance
from .fid import DrawingFID
from .inputs import drawing_to_unit_rgb
from .kid import DrawingKID
from .lpips import DrawingLPIPS
from .quality import QualityScore
from .style_judge import JudgedStyleAccuracy
from .suite import METRIC_NAMES, build_metrics

__all__ = [
    "METRIC_NAMES",
    "ChamferDistance",
    "DrawingFID",
    "DrawingKID",
    "DrawingLPIPS",
    "JudgedStyleAccuracy",
    "QualityScore",
    "build_metrics",
    "chamfer_distance",
    "drawing_to_unit_rgb",
]

# The metric networks live in apd_lightning.nets (inception, pretrained); these names stay importable from here.
from ..nets.inception import FIDInceptionV3  # noqa: E402
from ..nets.pretrained import build_lpips as build_lpips_net  # noqa: E402
from ..nets.pretrained import build_lpips as load_lpips_net  # noqa: E402
from ..nets.pretrained import load_inception_features  # noqa: E402

__all__ += ["FIDInceptionV3", "build_lpips_net", "load_inception_features", "load_lpips_net"]
