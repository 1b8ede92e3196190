"""apd_lightning: APDrawingGAN and QMUPD portrait-drawing GANs as PyTorch Lightning modules.

The public classes are importable from here (``from apd_lightning import APDrawingGAN``); they are loaded on first
use so that light commands (``make-demo-data``, ``preprocess``) start without importing Lightning.
"""

import importlib
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations calls the network on import otherwise

__version__ = "0.1.0"

_EXPORTS = {
    "APDrawingGAN": "apd_lightning.models",
    "QMUPD": "apd_lightning.models",
    "QualityRegressor": "apd_lightning.models",
    "APDrawingDataModule": "apd_lightning.data",
    "UnpairedDataModule": "apd_lightning.data",
    "RatedDrawingsDataModule": "apd_lightning.data",
    "PairedBatch": "apd_lightning.data",
    "UnpairedBatch": "apd_lightning.data",
    "HierarchicalGenerator": "apd_lightning.nets",
    "APDrawingDiscriminators": "apd_lightning.nets",
    "StyleGenerator": "apd_lightning.nets",
    "ResnetGenerator": "apd_lightning.nets",
    "QMUPDDiscriminators": "apd_lightning.nets",
    "QualityNet": "apd_lightning.nets",
    "make_demo_data": "apd_lightning.data.demo",
    "distance_transform": "apd_lightning.ops",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'apd_lightning' has no attribute {name!r}")
