"""Base of the metrics that average one value per image (chamfer distance, LPIPS, quality score, judged style
accuracy)."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric


class ImageMean(Metric):
    """The mean of one value per image, kept as float64 sums so that DDP's ``sum`` reduction is exact.

    Subclasses compute per-image values in ``update`` and pass them to :meth:`_add`. With no image seen,
    ``compute`` returns 0.
    """

    is_differentiable = False
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def _add(self, values: Tensor) -> None:
        self.total += values.detach().double().sum().to(self.total.device)
        self.count += values.numel()

    def compute(self) -> Tensor:
        return (self.total / self.count.clamp_min(1)).float()
