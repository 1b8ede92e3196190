"""Pieces of a manual-optimization GAN step shared by the LightningModules."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn


class GANHooks:
    """LightningModule mixin of the two GANs: channels-last weights and GAN-safe DDP, both set in
    ``configure_model``, i.e. before Lightning wraps the module in ``DistributedDataParallel``.

    * Channels-last (as :func:`wants_channels_last` decides from ``hparams.channels_last``): convolutions then
      produce channels-last activations, faster on GPU tensor cores and on CPUs with AVX-512 (oneDNN's bf16
      kernels run ~3× faster than on channels-first input). DDP lays out its gradient buckets like the weights
      when it wraps them, so the weights must be channels-last by then; converted later, every gradient would
      be copied into its bucket on every step (and torch warns "Grad strides do not match bucket view
      strides").
    * DDP: see :func:`allow_unused_parameters`.
    """

    def _use_channels_last(self) -> None:
        trainer = self._trainer
        training = trainer is not None and trainer.state.fn == "fit"
        device = trainer.strategy.root_device if trainer is not None else self.device
        if wants_channels_last(self.hparams.get("channels_last", False), device, training):
            self.to(memory_format=torch.channels_last)

    def configure_model(self) -> None:
        self._use_channels_last()
        if self._trainer is not None:
            allow_unused_parameters(self._trainer)

    # the loops' start hooks repeat it (a no-op then) for callers that run the module without configure_model
    def on_fit_start(self) -> None:
        self._use_channels_last()

    def on_validation_start(self) -> None:
        self._use_channels_last()

    def on_test_start(self) -> None:
        self._use_channels_last()

    def on_predict_start(self) -> None:
        self._use_channels_last()


def wants_channels_last(setting: bool | str, device: torch.device, training: bool) -> bool:
    """Whether a model should run channels-last: ``setting`` itself, or for ``"auto"`` what was faster.

    ``"auto"`` is channels-last everywhere except fp32/bf16 *training* on a CPU without AVX-512: there (AMD
    EPYC, AVX2) oneDNN's channels-last weight-gradient kernels ran 3–8× slower than the forward convolution,
    and a 512² training step spent 30 % (APDrawingGAN) / 12 % (QMUPD) more time in convolutions than on
    channels-first input (``benchmarks/conv_peak.py``), while inference was faster channels-last.

    Args:
        setting: ``True``, ``False`` or ``"auto"`` (the models' ``channels_last`` argument).
        device: where the model runs.
        training: whether the model is being fitted.
    """
    if setting != "auto":
        return bool(setting)
    if device.type != "cpu" or not training:
        return True
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def allow_unused_parameters(trainer: L.Trainer) -> None:
    """Make a DDP strategy accept backward passes that reach only some parameters, and say so once.

    Each GAN step runs two backward passes (discriminators, then generators), each reaching one optimizer's
    networks (``toggled_optimizer`` freezes the others), so plain DDP stops with "parameters that were not
    used in producing loss". With ``find_unused_parameters`` DDP finds the parameters each backward pass
    reached (one walk over the autograd graph per pass) and all-reduces every bucket, so gradients are
    averaged over the ranks as usual. Call before the strategy wraps the module (``configure_model``).

    Args:
        trainer: the trainer; other strategies than DDP are left alone.
    """
    strategy = trainer.strategy
    if isinstance(strategy, DDPStrategy) and not strategy._ddp_kwargs.get("find_unused_parameters", False):
        strategy._ddp_kwargs["find_unused_parameters"] = True  # read when DDP wraps the module, after this hook
        rank_zero_info(
            "apd_lightning: DDP with find_unused_parameters=True (each GAN step runs two backward passes, each "
            "reaching one optimizer's networks only)"
        )


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
