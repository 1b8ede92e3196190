"""Per-epoch learning-rate rules shared by the GAN modules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LinearDecay:
    """The pix2pix/CycleGAN 'lambda' rule: 1 for ``constant_epochs`` epochs, then a linear decay.

    ``factor(e) = 1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1)`` for the 0-based epoch ``e``; with
    ``decay_epochs = 0`` the rate stays constant (APDrawingGAN's setting).
    """

    constant_epochs: int
    decay_epochs: int = 0

    def __call__(self, epoch: int) -> float:
        if self.decay_epochs <= 0:
            return 1.0
        return 1.0 - max(0, epoch + 1 - self.constant_epochs) / (self.decay_epochs + 1)


def linear_decay_lambda(constant_epochs: int, decay_epochs: int = 0) -> LinearDecay:
    """A picklable :class:`LinearDecay` for ``torch.optim.lr_scheduler.LambdaLR``."""
    return LinearDecay(constant_epochs, decay_epochs)
