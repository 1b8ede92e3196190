"""The building blocks: the speed-motivated layers behave like the torch modules they replace, and the nets take
them as constructor arguments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apd_lightning.nets import HierarchicalGenerator, StyleGenerator, UNetGenerator
from apd_lightning.nets.blocks import Dropout, InstanceNorm2d, ReflectionPad2d, contiguous_grad, resolve_layer


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_dropout_keeps_the_right_fraction_scales_and_masks_the_gradient(p):
    torch.manual_seed(0)
    dropout = Dropout(p).train()
    x = torch.ones(1, 8, 64, 64, requires_grad=True)
    y = dropout(x)
    kept = y != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.02)
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - p)))
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / (1 - p))  # the same mask scales the gradient
    assert y.mean().item() == pytest.approx(1.0, abs=0.05)  # expectation preserved


def test_dropout_is_identity_in_eval_mode_and_keeps_dtype_and_memory_format():
    x = torch.randn(1, 4, 16, 16).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    assert Dropout(0.5).eval()(x) is x
    y = Dropout(0.5).train()(x)
    assert y.dtype == torch.bfloat16 and y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y[y != 0], x[y != 0] * 2)


def test_layers_are_constructor_arguments_with_aliases():
    def layer_types(net: nn.Module) -> set[type]:
        return {type(m) for m in net.modules()}

    ours = HierarchicalGenerator(64, 4, 4, 4)
    assert {Dropout, ReflectionPad2d} <= layer_types(ours) and nn.Dropout not in layer_types(ours)
    torch_layers = HierarchicalGenerator(64, 4, 4, 4, dropout_layer="torch", pad_layer=nn.ReflectionPad2d)
    assert {nn.Dropout, nn.ReflectionPad2d} <= layer_types(torch_layers)
    assert not {Dropout, ReflectionPad2d} & layer_types(torch_layers)
    assert InstanceNorm2d in layer_types(StyleGenerator(base_channels=4, num_blocks=1))
    assert nn.InstanceNorm2d in layer_types(StyleGenerator(base_channels=4, num_blocks=1, norm_layer=nn.InstanceNorm2d))
    assert resolve_layer("torch", "dropout") is nn.Dropout and resolve_layer(nn.Identity, "pad") is nn.Identity
    with pytest.raises(ValueError, match=r"unknown dropout layer 'bernoulli'; choose one of \['fast', 'torch'\]"):
        UNetGenerator(num_downs=3, dropout_layer="bernoulli")


def test_reflection_pad_keeps_bf16_under_autocast_and_matches_torch():
    x = torch.randn(1, 3, 8, 8).to(torch.bfloat16)
    with torch.autocast("cpu", torch.bfloat16):
        assert nn.ReflectionPad2d(2)(x).dtype == torch.float32  # what torch's autocast does
        y = ReflectionPad2d(2)(x)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y.float(), nn.ReflectionPad2d(2)(x.float()))


def _grad_reaching(x, wrap):
    seen = {}
    x.register_hook(lambda g: seen.setdefault("grad", g))
    other = torch.zeros_like(x)
    z = torch.cat([wrap(x), other], dim=1)  # x gets a channel slice of z's gradient
    g = torch.arange(z.numel(), dtype=torch.float32).view(z.shape).contiguous(memory_format=torch.channels_last)
    z.backward(g)
    return seen["grad"], g[:, : x.shape[1]]


def test_contiguous_grad_is_identity_and_densifies_the_gradient():
    x = torch.randn(1, 4, 8, 8).contiguous(memory_format=torch.channels_last).requires_grad_()
    assert torch.equal(contiguous_grad(x), x)
    plain, _ = _grad_reaching(x.detach().clone().requires_grad_(), lambda t: t)
    assert not plain.is_contiguous(memory_format=torch.channels_last)  # what the wrapper is for
    grad, expected = _grad_reaching(x, contiguous_grad)
    assert grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(grad, expected)


def _norm_and_grad(norm, x, g):
    x = x.clone().requires_grad_()
    y = norm(x)
    return y, torch.autograd.grad(y, x, g)[0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("x_format", "g_format"), [("cl", "cl"), ("nchw", "cl"), ("cl", "nchw")])
def test_instance_norm_values_and_gradients_in_any_memory_format(dtype, batch, x_format, g_format):
    """Checked against float64 channels-first. (torch 2.14's own ``instance_norm`` returns a wrong input
    gradient for a batch of one when the incoming gradient is channels-last: off by 1.5 here.)"""
    from apd_lightning.nets.blocks import InstanceNorm2d

    fmt = {"cl": torch.channels_last, "nchw": torch.contiguous_format}
    torch.manual_seed(batch)
    x = (torch.randn(batch, 6, 16, 16) * 3 + 1).to(dtype).contiguous(memory_format=fmt[x_format])
    g = torch.randn(batch, 6, 16, 16).to(dtype).contiguous(memory_format=fmt[g_format])
    y, grad = _norm_and_grad(InstanceNorm2d(6), x, g)
    y_ref, grad_ref = _norm_and_grad(nn.InstanceNorm2d(6).double(), x.double().contiguous(), g.double().contiguous())
    assert y.dtype == dtype
    if batch == 1:
        assert y.is_contiguous(memory_format=fmt[x_format])  # channels-last stays channels-last
    tol = 1e-5 if dtype == torch.float32 else 5e-2
    torch.testing.assert_close(y.double(), y_ref, atol=tol, rtol=0)
    torch.testing.assert_close(grad.double(), grad_ref, atol=tol * 4, rtol=0)


def test_contiguous_grad_keeps_a_single_sample_channels_last_through_cat():
    x = torch.randn(1, 4, 8, 8).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = contiguous_grad(x)
    assert y.stride() == x.stride()
    assert torch.cat([y, y], dim=1).is_contiguous(memory_format=torch.channels_last)
