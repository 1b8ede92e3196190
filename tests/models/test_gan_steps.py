"""GAN-safe DDP settings chosen by the module (the 2-process fits are in tests/cli/test_ddp.py), and
``model.compile``: which nets get compiled, that checkpoints do not change, and that compiled nets compute what
the eager ones do (outputs and gradients)."""

from __future__ import annotations

import copy
import logging
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

from apd_lightning.models import QMUPD, APDrawingGAN
from apd_lightning.models.gan_steps import allow_unused_parameters
from apd_lightning.nets import (
    APDrawingDiscriminators,
    HierarchicalGenerator,
    QMUPDDiscriminators,
    ResnetGenerator,
    StyleGenerator,
)
from apd_lightning.nets.unet import UNetGenerator
from tests.builders import tiny_apdrawinggan


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


def test_channels_last_auto_trains_channels_first_only_on_cpus_without_avx512(monkeypatch):
    from apd_lightning.models import gan_steps

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    for capability, expected in (("AVX2", False), ("AVX512", True), ("DEFAULT", False)):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda c=capability: c)
        assert gan_steps.wants_channels_last("auto", cpu, training=True) is expected
        assert gan_steps.wants_channels_last("auto", cpu, training=False) is True  # inference: always faster
        assert gan_steps.wants_channels_last("auto", cuda, training=True) is True
        assert gan_steps.wants_channels_last(False, cuda, training=False) is False  # an explicit choice wins
        assert gan_steps.wants_channels_last(True, cpu, training=True) is True


def tiny_models(compile: bool):
    apd = APDrawingGAN(
        HierarchicalGenerator(64, 4, 4, 4), APDrawingDiscriminators(64, 4, local_num_layers=2), compile=compile
    )
    qmupd = QMUPD(
        StyleGenerator(base_channels=4, num_blocks=1),
        ResnetGenerator(base_channels=4, num_blocks=1),
        QMUPDDiscriminators(64, base_channels=4, class_head="pool"),
        auxiliaries="random_init",
        compile=compile,
    )
    return apd, qmupd


@pytest.mark.parametrize("index", [0, 1], ids=["apdrawinggan", "qmupd"])
def test_compile_option_compiles_every_generator_and_discriminator_in_place(index):
    model = tiny_models(compile=True)[index]
    keys = list(model.state_dict())
    model.on_fit_start()  # what the Trainer calls; compilation itself happens lazily at the first call
    targets = model.compile_targets()
    assert all(net._compiled_call_impl is not None for net in targets)
    covered = {id(p) for net in targets for p in net.parameters()}
    assert covered == {id(p) for p in model.parameters()}  # every trainable net (auxiliaries are built in setup)
    assert list(model.state_dict()) == keys  # parameter names, so checkpoints, are unchanged
    model.on_predict_start()  # compiling twice is a no-op
    assert model.hparams.compile is True


@pytest.mark.parametrize("index", [0, 1], ids=["apdrawinggan", "qmupd"])
def test_compile_is_off_by_default(index):
    model = tiny_models(compile=False)[index]
    model.on_fit_start()
    assert all(net._compiled_call_impl is None for net in model.compile_targets())


def _unet_case():
    net = UNetGenerator(3, 1, base_channels=4, num_downs=3, max_multiplier=2, dropout_levels=0)
    return net, (torch.randn(1, 3, 32, 32),)


def _style_case():
    net = StyleGenerator(base_channels=4, num_blocks=1)
    return net, (torch.randn(1, 3, 32, 32), torch.tensor([[0.2, 0.3, 0.5]]))


@pytest.mark.slow  # inductor compiles a forward and a backward graph per net: tens of seconds on 2 cores
@pytest.mark.parametrize("case", [_unet_case, _style_case], ids=["unet_batchnorm", "style_resnet_instancenorm"])
def test_compiled_net_matches_eager_outputs_and_gradients(case):
    torch.manual_seed(0)
    eager, inputs = case()
    eager = eager.to(memory_format=torch.channels_last)  # as the models run them
    compiled = copy.deepcopy(eager)
    compiled.compile(dynamic=False)
    photo = inputs[0].contiguous(memory_format=torch.channels_last)
    outputs = []
    for net in (eager, compiled):
        x = photo.clone().requires_grad_(True)
        out = net(x, *inputs[1:])
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outputs.append((out.detach(), x.grad, {n: p.grad for n, p in net.named_parameters()}))
    (out_e, dx_e, grads_e), (out_c, dx_c, grads_c) = outputs
    assert out_e.shape == out_c.shape and out_e.abs().max() > 0
    torch.testing.assert_close(out_c, out_e, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(dx_c, dx_e, atol=1e-5, rtol=1e-4)
    assert grads_e.keys() == grads_c.keys()
    # Biases followed by a norm layer have a true gradient of 0 (float noise ~1e-5 here): compare every gradient
    # at the scale of the net's largest one.
    scale = max(grad.abs().max().item() for grad in grads_e.values())
    for name, grad in grads_e.items():
        assert grad is not None and grads_c[name] is not None, name
        torch.testing.assert_close(grads_c[name], grad, atol=2e-6 * scale, rtol=1e-4, msg=name)
