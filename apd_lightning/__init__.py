"""apd_lightning: APDrawingGAN and QMUPD portrait-drawing GANs as PyTorch Lightning modules."""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations calls the network on import otherwise

__version__ = "0.1.0"
