"""QualityNet (the regressor M): shapes, gradients, the reference Inception layout, loading."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.nets.quality import QualityNet
from apd_lightning.weights import MissingWeightsError
from tests.builders import assert_every_parameter_gets_a_finite_gradient


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


def test_every_parameter_gets_a_finite_gradient():
    net = QualityNet("small", width=4)
    assert_every_parameter_gets_a_finite_gradient(net, lambda n: n(torch.rand(2, 1, 48, 48) * 2 - 1))


@pytest.mark.slow
def test_every_parameter_of_the_inception_backbone_gets_a_finite_gradient():
    assert_every_parameter_gets_a_finite_gradient(QualityNet(), lambda n: n(torch.rand(2, 1, 64, 64) * 2 - 1))
