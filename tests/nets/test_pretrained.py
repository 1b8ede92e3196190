"""The frozen pretrained networks: the Frozen wrapper, the builders of HED, LPIPS, M and the FID Inception, and the
QMUPD auxiliaries in each mode."""

from __future__ import annotations

import pathlib
import typing
import warnings

import pytest
import torch
import torchmetrics
import torchvision

from apd_lightning.losses.structure import MultiScaleStructuralDistance
from apd_lightning.metrics import DrawingLPIPS
from apd_lightning.nets import HED, FIDInceptionV3, QualityNet
from apd_lightning.nets.pretrained import (
    AUXILIARY_BUILDERS,
    AuxiliaryMode,
    Frozen,
    build_auxiliaries,
    build_lpips,
    freeze,
    load_inception_features,
    load_quality_net,
)
from apd_lightning.ops.edges import MultiScaleEdges
from apd_lightning.weights import MissingWeightsError
from tests.builders import tiny_qmupd, tiny_quality_net


def test_frozen_wrapper_stays_in_eval_takes_no_gradient_and_reads_through():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Dropout(0.5))
    frozen = freeze(net)
    assert freeze(frozen) is frozen and isinstance(frozen, Frozen)
    parent = torch.nn.ModuleDict({"frozen": frozen}).train()
    assert not any(m.training for m in parent["frozen"].modules())  # no dropout, no BatchNorm statistics update
    statistics = net[1].running_mean.clone()
    x = torch.rand(3, 1, 8, 8, requires_grad=True)
    out = frozen(x)
    torch.testing.assert_close(out, frozen(x))  # deterministic: dropout is off
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # differentiable with respect to the input
    assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())
    assert torch.equal(net[1].running_mean, statistics)
    assert getattr(frozen, "0") is net[0] and frozen.net is net  # attribute reads go to the wrapped net
    with pytest.raises(AttributeError):
        frozen.no_such_attribute  # noqa: B018


def test_load_plain_state_dict(tmp_path):
    net = tiny_quality_net(seed=1)
    torch.save(net.net.state_dict(), tmp_path / "quality.pth")
    loaded = load_quality_net(tmp_path / "quality.pth", backbone="small", width=4, input_size=64)
    drawing = torch.rand(2, 1, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded(drawing), net(drawing))
    assert isinstance(loaded, Frozen) and isinstance(loaded.net, QualityNet) and not loaded.training
    with pytest.raises(ValueError, match="does not fit"):
        load_quality_net(tmp_path / "quality.pth", backbone="small", width=8)


def test_fid_inception_loads_torchvision_named_weights(tmp_path):
    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    assert state["fc.weight"].shape == (1008, 2048)
    assert "Mixed_7c.branch_pool.conv.weight" in state and not any(k.startswith("AuxLogits") for k in state)
    path = tmp_path / "pt_inception.pth"
    torch.save(state, path)
    loaded = load_inception_features(path)
    torch.testing.assert_close(
        loaded.net.state_dict()["Mixed_6e.branch_pool.conv.weight"], state["Mixed_6e.branch_pool.conv.weight"]
    )
    assert loaded.num_features == 2048
    loaded.train()
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    torch.save({"fc.weight": torch.zeros(1000, 2048)}, path)
    with pytest.raises(ValueError, match="not the FID Inception"):
        load_inception_features(path)


def test_lpips_is_torchmetrics_with_local_alexnet_weights(tmp_path):
    torch.manual_seed(0)
    alexnet = {
        k: v for k, v in torchvision.models.alexnet(weights=None).state_dict().items() if k.startswith("features.")
    }  # the classifier is not needed (and large)
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(alexnet, path)
    for source in (path, alexnet):  # a file or a state dict
        lpips = build_lpips(source)
        assert torch.equal(getattr(lpips.net.net.slice2, "3").weight, alexnet["features.3.weight"])
        assert torch.equal(getattr(lpips.net.net.slice5, "10").bias, alexnet["features.10.bias"])
    loaded = {k.removeprefix("net.net.") for k in lpips.state_dict() if k.startswith("net.net.")}
    assert {k.split(".", 1)[1] for k in loaded} == {k.removeprefix("features.") for k in alexnet}  # all of them
    assert not any(p.requires_grad for p in lpips.parameters())
    lpips.train(True)
    assert not lpips.training  # never leaves eval mode (dropout in the linear layers stays off)
    x, y = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    assert lpips(x, x).abs().max() < 1e-6 and (lpips(x, y) > 0).all()


def test_missing_lpips_files_name_the_file(tmp_path):
    with pytest.raises(MissingWeightsError, match="alexnet-owt-7be5be79.pth"):
        build_lpips(tmp_path / "alexnet-owt-7be5be79.pth")
    with pytest.raises(MissingWeightsError, match="alex.pth"):
        build_lpips(lpips_path=tmp_path / "alex.pth", random_init=True)


def test_lpips_linear_layer_file_is_checked_before_the_non_strict_load(tmp_path):
    shipped = pathlib.Path(torchmetrics.__file__).parent / "functional/image/lpips_models/alex.pth"
    assert build_lpips(lpips_path=shipped, random_init=True) is not None
    bad = tmp_path / "alex.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)}, bad)
    with pytest.raises(ValueError, match="not an LPIPS v0.1 AlexNet linear-layer file") as info:
        build_lpips(lpips_path=bad, random_init=True)
    assert "lin1.model.1.weight" in str(info.value)


def test_missing_or_wrong_alexnet(tmp_path, empty_hub):
    with pytest.raises(MissingWeightsError, match=r"alexnet-owt-7be5be79\.pth.*download\.pytorch\.org"):
        build_lpips()
    with pytest.raises(MissingWeightsError, match="mine.pth"):
        DrawingLPIPS(alexnet_path=tmp_path / "mine.pth")
    with pytest.raises(ValueError, match="not a torchvision AlexNet"):
        build_lpips({"classifier.1.weight": torch.zeros(1)})


def test_random_stand_ins_are_never_silent():
    with pytest.warns(UserWarning, match="random stand-ins"):
        aux = build_auxiliaries("random_init", True, random_width=4)
    assert isinstance(aux.edges.net, HED) and isinstance(aux.quality.net, QualityNet)
    assert not any(p.requires_grad for p in aux.parameters())
    for bad in (lambda: tiny_qmupd(auxiliaries="random"), lambda: build_auxiliaries("random", True)):
        with pytest.raises(ValueError, match="auxiliaries must be one of 'pretrained', 'classical', 'random_init'"):
            bad()


def test_every_auxiliary_mode_has_a_builder():
    assert set(typing.get_args(AuxiliaryMode)) == set(AUXILIARY_BUILDERS)


def test_missing_weight_files_are_all_named(tmp_path):
    with pytest.raises(MissingWeightsError) as info:
        build_auxiliaries(
            "pretrained",
            True,
            hed_path=str(tmp_path / "network-bsds500.pytorch"),
            alexnet_path=str(tmp_path / "alexnet-owt-7be5be79.pth"),
            quality_path=str(tmp_path / "quality.ckpt"),
        )
    message = str(info.value)
    for name in ("network-bsds500.pytorch", "sniklaus", "alexnet-owt-7be5be79.pth", "quality.ckpt", "random_init"):
        assert name in message


def test_pretrained_auxiliaries_load_from_files(tmp_path):
    torch.manual_seed(0)
    hed = HED()
    torch.save(hed.state_dict(), tmp_path / "hed.pth")
    alexnet = torchvision.models.alexnet().features.state_dict()
    torch.save({f"features.{k}": v for k, v in alexnet.items()}, tmp_path / "alexnet.pth")
    quality = QualityNet("small", width=4)
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in quality.state_dict().items()},
            "hyper_parameters": {"net_config": quality.config},
        },
        tmp_path / "quality.ckpt",
    )
    aux = build_auxiliaries(
        "pretrained",
        True,
        str(tmp_path / "hed.pth"),
        str(tmp_path / "alexnet.pth"),
        quality_path=str(tmp_path / "quality.ckpt"),
    )
    assert torch.equal(aux.edges.fuse.weight, hed.fuse.weight)
    assert torch.equal(aux.perceptual.net.net.slice1[0].weight, alexnet["0.weight"])
    assert torch.equal(aux.quality.trunk[1].weight, quality.trunk[1].weight)
    assert not any(p.requires_grad for p in aux.parameters())


def test_classical_auxiliaries_need_no_file_and_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aux = build_auxiliaries("classical", use_quality=False, hed_path="/absent/hed.pth", alexnet_path="/absent")
    assert isinstance(aux.edges.net, MultiScaleEdges) and isinstance(aux.perceptual.net, MultiScaleStructuralDistance)
    assert aux.quality is None and not list(aux.parameters())


def test_classical_auxiliaries_still_load_the_quality_net_from_its_file(tmp_path):
    with pytest.raises(MissingWeightsError, match="quality.ckpt"):
        build_auxiliaries("classical", use_quality=True, quality_path=str(tmp_path / "quality.ckpt"))
    with pytest.raises(ValueError, match="'classical'"):
        build_auxiliaries("hed", use_quality=False)
