"""Losses: functional form plus a thin module (no Lightning imports)."""

from .adversarial import GANLoss, gan_loss
from .chamfer import ChamferLoss, chamfer_loss, normalised_distance_maps, soft_ink

__all__ = ["ChamferLoss", "GANLoss", "chamfer_loss", "gan_loss", "normalised_distance_maps", "soft_ink"]
