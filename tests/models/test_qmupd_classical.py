"""QMUPD with ``auxiliaries: classical``: fixed edge and structural-distance operators, no weight files."""

from __future__ import annotations

import warnings

import pytest
import torch

from apd_lightning.losses.cycle import edge_image, relaxed_cycle_loss
from apd_lightning.losses.structure import MultiScaleStructuralDistance
from apd_lightning.models.qmupd import build_auxiliaries
from apd_lightning.ops.edges import MultiScaleEdges
from apd_lightning.weights import MissingWeightsError

from ..qmupd.conftest import tiny_module


def test_classical_auxiliaries_need_no_file_and_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aux = build_auxiliaries("classical", use_quality=False, hed_path="/absent/hed.pth", alexnet_path="/absent")
    assert isinstance(aux.edges, MultiScaleEdges) and isinstance(aux.perceptual, MultiScaleStructuralDistance)
    assert aux.quality is None and not list(aux.parameters())


def test_the_quality_net_still_comes_from_its_file(tmp_path):
    with pytest.raises(MissingWeightsError, match="quality.ckpt"):
        build_auxiliaries("classical", use_quality=True, quality_path=str(tmp_path / "quality.ckpt"))
    with pytest.raises(ValueError, match="'classical'"):
        build_auxiliaries("hed", use_quality=False)


def test_the_relaxed_cycle_carries_the_photo_content_to_both_generators():
    torch.manual_seed(0)
    model = tiny_module(auxiliaries="classical", use_quality_loss=False)
    model.setup("fit")
    photo = torch.rand(2, 3, 64, 64) * 2 - 1
    reconstruction = model.reverse_generator(model.generator(photo, torch.eye(3)[:2]))
    edges = edge_image(photo, model.auxiliaries.edges)
    loss = relaxed_cycle_loss(reconstruction, edges, model.auxiliaries.edges, model.auxiliaries.perceptual)
    assert 0 < loss.item() < 1
    assert relaxed_cycle_loss(photo, edges, model.auxiliaries.edges, model.auxiliaries.perceptual).item() < 1e-4
    grads = torch.autograd.grad(loss, [*model.generator.parameters(), *model.reverse_generator.parameters()])
    assert all(torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads[: len(list(model.generator.parameters()))]) > 0  # reaches G
