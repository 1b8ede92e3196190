"""LightningModules."""

from .apdrawinggan import APDrawingGAN

__all__ = ["APDrawingGAN"]

# QMUPD / UPD
from .image_pool import ImagePool  # noqa: E402
from .qmupd import QMUPD  # noqa: E402

__all__ += ["ImagePool", "QMUPD"]

from .quality import QualityRegressor  # noqa: E402

__all__ += ["QualityRegressor"]
