"""Training the QMUPD drawing-quality regressor M on human (or synthetic) ratings."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor, nn
from torchmetrics.regression import SpearmanCorrCoef

from ..data.batches import RatedBatch
from ..losses.ranking import quality_losses
from ..nets.quality import QualityNet


class QualityRegressor(L.LightningModule):
    """Fits a :class:`QualityNet` to rated drawings; validation reports the Spearman rank correlation.

    The reference code never published how M was trained (spec §2); this is our protocol: MSE to the
    ratings, optionally with a pairwise margin-ranking term, Adam.

    Args:
        net: the regressor to train.
        lambda_rank: weight of the pairwise ranking loss (0 = plain regression).
        rank_margin: margin of the ranking loss, in rating units.
        lr: Adam learning rate.
        betas: Adam betas.
        weight_decay: Adam weight decay.
    """

    def __init__(
        self,
        net: QualityNet,
        lambda_rank: float = 0.0,
        rank_margin: float = 0.0,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.999),
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["net"])
        self.hparams["net_config"] = net.config  # lets load_quality_net rebuild the net from the checkpoint
        self.net = net
        self.spearman = nn.ModuleDict({"val": SpearmanCorrCoef(), "test": SpearmanCorrCoef()})

    def forward(self, drawing: Tensor) -> Tensor:
        """``(B, 1, H, W)`` drawings in [-1, 1] -> ``(B,)`` scores."""
        return self.net(drawing)

    def model_step(self, batch: RatedBatch) -> tuple[Tensor, dict[str, Tensor]]:
        pred = self(batch.drawing)
        hp = self.hparams
        return pred, quality_losses(pred, batch.score, hp.lambda_rank, hp.rank_margin)

    def training_step(self, batch: RatedBatch, batch_idx: int) -> Tensor:
        _, losses = self.model_step(batch)
        self.log_dict({f"train/{k}": v.detach() for k, v in losses.items()}, prog_bar=True, batch_size=len(batch))
        return losses["total"]

    def evaluation_step(self, batch: RatedBatch, stage: str) -> None:
        pred, losses = self.model_step(batch)
        self.spearman[stage].update(pred, batch.score)
        self.log_dict({f"{stage}/{k}": v for k, v in losses.items()}, batch_size=len(batch))
        self.log(f"{stage}/spearman", self.spearman[stage], prog_bar=True, batch_size=len(batch))

    def validation_step(self, batch: RatedBatch, batch_idx: int) -> None:
        self.evaluation_step(batch, "val")

    def test_step(self, batch: RatedBatch, batch_idx: int) -> None:
        self.evaluation_step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        return torch.optim.Adam(self.net.parameters(), lr=hp.lr, betas=tuple(hp.betas), weight_decay=hp.weight_decay)
