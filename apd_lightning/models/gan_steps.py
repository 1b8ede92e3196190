"""Pieces of a manual-optimization GAN step shared by the LightningModules."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor, nn


class ChannelsLastHooks:
    """LightningModule mixin: move weights to channels-last memory format when a loop starts, if
    ``hparams.channels_last`` (convolutions then produce channels-last activations: faster on CPU, where
    oneDNN's bf16 kernels run ~3× faster than on channels-first input, and on GPU tensor cores)."""

    def _use_channels_last(self) -> None:
        if self.hparams.get("channels_last", False):
            self.to(memory_format=torch.channels_last)

    def on_fit_start(self) -> None:
        self._use_channels_last()

    def on_validation_start(self) -> None:
        self._use_channels_last()

    def on_test_start(self) -> None:
        self._use_channels_last()

    def on_predict_start(self) -> None:
        self._use_channels_last()


class CompileHooks:
    """LightningModule mixin: if ``hparams.compile``, compile each net of ``compile_targets()`` with
    ``torch.compile`` (inductor) when a loop first starts. ``nn.Module.compile`` works in place, so parameter
    names, checkpoints and the optimizers are unchanged; the first step of each mode (train, eval, inference)
    pays the compilation.
    """

    def compile_targets(self) -> list[nn.Module]:
        """The nets to compile: plain convolutional nets whose inputs keep their shapes between steps."""
        raise NotImplementedError

    def _compile_nets(self) -> None:
        if self.hparams.get("compile", False) and not getattr(self, "_nets_compiled", False):
            for net in self.compile_targets():
                net.compile(dynamic=False)
            self._nets_compiled = True

    def on_fit_start(self) -> None:
        super().on_fit_start()
        self._compile_nets()

    def on_validation_start(self) -> None:
        super().on_validation_start()
        self._compile_nets()

    def on_test_start(self) -> None:
        super().on_test_start()
        self._compile_nets()

    def on_predict_start(self) -> None:
        super().on_predict_start()
        self._compile_nets()


def adam(params, lr: float, betas) -> torch.optim.Adam:
    """Adam with torch's fused kernel (one pass over all parameters per step; CPU and CUDA)."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=True)


def backward_step(module: L.LightningModule, optimizer, loss: Tensor) -> None:
    """Zero the optimizer's gradients, back-propagate ``loss`` (Lightning's precision/strategy aware), step."""
    optimizer.zero_grad(set_to_none=True)
    module.manual_backward(loss)
    optimizer.step()


def log_train_losses(
    module: L.LightningModule, g_losses: dict[str, Tensor], d_losses: dict[str, Tensor], batch_size: int
) -> None:
    """Stop on a non-finite loss (naming it and the step), then log every term as ``train/<name>``.

    Raises:
        FloatingPointError: a loss is NaN or infinite.
    """
    losses = {**g_losses, **d_losses}
    for key, value in losses.items():
        if not torch.isfinite(value):
            raise FloatingPointError(f"loss {key} is {value.item()} at global step {module.global_step}")
    module.log_dict({f"train/{k}": v.detach() for k, v in losses.items()}, batch_size=batch_size)
    module.log("train/g", g_losses["g_total"].detach(), prog_bar=True, batch_size=batch_size)
    module.log("train/d", d_losses["d_total"].detach(), prog_bar=True, batch_size=batch_size)
