"""GAN-safe DDP settings chosen by the module (the 2-process fits are in tests/scale/test_ddp.py)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import torch
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

from apd_lightning.models.gan_steps import allow_unused_parameters
from tests.conftest import tiny_apdrawinggan


def test_plain_ddp_gets_find_unused_parameters_once(caplog):
    strategy = DDPStrategy()  # what --trainer.strategy ddp builds
    assert not strategy._ddp_kwargs.get("find_unused_parameters", False)
    with caplog.at_level(logging.INFO):
        allow_unused_parameters(SimpleNamespace(strategy=strategy))
        allow_unused_parameters(SimpleNamespace(strategy=strategy))  # a second fit on the same trainer
    assert strategy._ddp_kwargs["find_unused_parameters"] is True
    assert sum("find_unused_parameters=True" in r.getMessage() for r in caplog.records) == 1


def test_other_strategies_are_left_alone():
    single = SingleDeviceStrategy(device=torch.device("cpu"))
    allow_unused_parameters(SimpleNamespace(strategy=single))
    assert not hasattr(single, "_ddp_kwargs")


def test_configure_model_makes_weights_channels_last():
    module = tiny_apdrawinggan()
    conv = next(p for p in module.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] > 1)
    assert not conv.is_contiguous(memory_format=torch.channels_last)
    module.configure_model()  # what the trainer calls before the strategy wraps the module
    assert conv.is_contiguous(memory_format=torch.channels_last)
