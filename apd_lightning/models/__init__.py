"""LightningModules."""

from .apdrawinggan import APDrawingGAN

__all__ = ["APDrawingGAN"]
