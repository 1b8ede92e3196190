"""The QualityScore metric and loading a trained quality regressor."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.utilities.data import dim_zero_sum

from apd_lightning.metrics import QualityScore
from apd_lightning.nets.pretrained import load_quality_net
from apd_lightning.weights import MissingWeightsError
from tests.builders import tiny_quality_net


def test_missing_quality_weights_say_how_to_get_them(tmp_path, empty_hub):
    with pytest.raises(MissingWeightsError, match=r"configs/quality\.yaml"):
        load_quality_net(tmp_path / "quality.ckpt")
    with pytest.raises(MissingWeightsError, match="hub cache"):
        QualityScore()


def test_quality_score_is_the_mean_prediction():
    net = tiny_quality_net()
    drawings = torch.rand(6, 1, 32, 32) * 2 - 1
    metric = QualityScore(net=net)
    assert QualityScore.higher_is_better
    metric.update(drawings[:2])
    metric.update(drawings[2:])
    with torch.no_grad():
        expected = net(drawings).mean()
    assert metric.compute().item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.filterwarnings("ignore:The ``compute`` method:UserWarning")  # states set by hand
def test_quality_score_states_survive_a_ddp_reduction():
    net = tiny_quality_net()
    drawings = torch.rand(7, 1, 32, 32) * 2 - 1
    single, rank0, rank1 = (QualityScore(net=net) for _ in range(3))
    single.update(drawings)
    rank0.update(drawings[:3])
    rank1.update(drawings[3:])
    assert rank0._reductions["total"] is dim_zero_sum and rank0._reductions["count"] is dim_zero_sum
    # what the DDP sync does: stack every rank's states and apply dist_reduce_fx
    reduced = QualityScore(net=net)
    reduced._reduce_states({"total": rank0.total, "count": rank0.count})
    reduced._reduce_states({"total": rank1.total, "count": rank1.count})
    rank0.merge_state(rank1)
    assert int(rank0.count) == 7 and int(reduced.count) == 7
    assert rank0.compute().item() == pytest.approx(single.compute().item(), rel=1e-6)
    assert reduced.compute().item() == pytest.approx(single.compute().item(), rel=1e-6)
