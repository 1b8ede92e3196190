"""QualityNet (the regressor M), load_quality_net and the QualityScore metric."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.utilities.data import dim_zero_sum

from apd_lightning.metrics import QualityScore
from apd_lightning.nets.quality import QualityNet, load_quality_net
from apd_lightning.weights import MissingWeightsError

from .conftest import tiny_quality_net


def test_small_net_shapes_and_gradients():
    torch.manual_seed(0)
    net = QualityNet("small", width=4)
    scores = net(torch.rand(3, 1, 64, 64) * 2 - 1)
    assert scores.shape == (3,) and net.input_size == 64
    assert net(torch.rand(2, 1, 40, 56) * 2 - 1).shape == (2,)  # any size: resized to input_size inside
    scores.square().sum().backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (1, 64, 64)])
def test_bad_input_shape_raises(shape):
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        QualityNet("small", width=4)(torch.zeros(shape))


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="backbone"):
        QualityNet("resnet")
    with pytest.raises(ValueError, match="only supported for the inception_v3"):
        QualityNet("small", pretrained_path="x.pth")
    with pytest.raises(MissingWeightsError, match=r"inception_v3_google-0cc3c7bd\.pth"):
        QualityNet("inception_v3", pretrained_path=str(tmp_path / "missing.pth"))


def test_inception_backbone_is_the_reference_layout(tmp_path):
    net = QualityNet()
    assert net.trunk.transform_input and net.trunk.AuxLogits is None
    assert net.trunk.fc.in_features == 2048 and net.trunk.fc.out_features == 1
    # an ImageNet file (aux head, 1000 classes) initialises the trunk; its fc and aux head are dropped
    imagenet = {k: v.clone() + 1 for k, v in net.trunk.state_dict().items() if not k.startswith("fc.")}
    imagenet.update(
        {
            "fc.weight": torch.zeros(1000, 2048),
            "fc.bias": torch.zeros(1000),
            "AuxLogits.fc.weight": torch.zeros(1000, 768),
        }
    )
    torch.save(imagenet, tmp_path / "inception_v3_google.pth")
    initialised = QualityNet(pretrained_path=str(tmp_path / "inception_v3_google.pth"))
    torch.testing.assert_close(
        initialised.trunk.Mixed_7c.branch1x1.conv.weight, imagenet["Mixed_7c.branch1x1.conv.weight"]
    )
    assert initialised.trunk.fc.out_features == 1


@pytest.mark.slow
def test_inception_backbone_scores_drawings_of_any_size():
    with torch.no_grad():
        scores = QualityNet().eval()(torch.rand(2, 1, 64, 64) * 2 - 1)  # resized to 299 inside
    assert scores.shape == (2,) and torch.isfinite(scores).all()


def test_frozen_net_stays_in_eval_and_passes_input_gradients():
    net = tiny_quality_net()
    net.train()
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    drawing = (torch.rand(2, 1, 32, 32) * 2 - 1).requires_grad_()
    net(drawing).sum().backward()
    assert drawing.grad is not None and drawing.grad.abs().sum() > 0


def test_load_plain_state_dict(tmp_path):
    net = tiny_quality_net(seed=1)
    torch.save(net.state_dict(), tmp_path / "quality.pth")
    loaded = load_quality_net(tmp_path / "quality.pth", backbone="small", width=4, input_size=64)
    drawing = torch.rand(2, 1, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded(drawing), net(drawing))
    assert loaded.frozen and not loaded.training
    with pytest.raises(ValueError, match="does not fit"):
        load_quality_net(tmp_path / "quality.pth", backbone="small", width=8)


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
