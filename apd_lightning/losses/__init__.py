"""Losses: functional form plus a thin module (no Lightning imports)."""

from .adversarial import GANLoss, gan_loss
from .chamfer import ChamferLoss, chamfer_loss, normalised_distance_maps, soft_ink

__all__ = ["ChamferLoss", "GANLoss", "chamfer_loss", "gan_loss", "normalised_distance_maps", "soft_ink"]

# QMUPD / UPD
from .cycle import RelaxedCycleLoss, edge_image, relaxed_cycle_loss, strict_cycle_loss  # noqa: E402
from .style import StyleClassificationLoss, style_classification_loss  # noqa: E402
from .truncation import Truncation, truncate  # noqa: E402

__all__ += [
    "RelaxedCycleLoss",
    "StyleClassificationLoss",
    "Truncation",
    "edge_image",
    "relaxed_cycle_loss",
    "strict_cycle_loss",
    "style_classification_loss",
    "truncate",
]

# the quality regressor M
from .ranking import PairwiseRankingLoss, pairwise_ranking_loss, quality_losses  # noqa: E402

__all__ += ["PairwiseRankingLoss", "pairwise_ranking_loss", "quality_losses"]
