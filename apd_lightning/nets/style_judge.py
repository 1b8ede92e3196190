"""An independent style judge: a tiny drawing-style classifier trained on true drawings only.

It scores a drawing GAN's style control without asking the GAN's own discriminator (which learns together
with the generator and can agree with it on anything). It never sees a generated drawing while it learns.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .pretrained import Frozen, freeze

_BLUR = (torch.tensor([1.0, 2.0, 1.0])[:, None] * torch.tensor([1.0, 2.0, 1.0]) / 16).view(1, 1, 3, 3)


class StyleJudge(nn.Module):
    """Four 3×3 conv layers (the first three stride 2), global average and max pooling, one linear layer.

    Args:
        num_styles: number of style classes.
        image_size: side the drawings are resized to (area / bilinear) before judging.
        width: channels of the first conv (doubled twice).

    Shape:
        ``(B, 1, H, W)`` drawing in [-1, 1] (white background, dark lines) -> ``(B, num_styles)`` logits.

    Example:
        >>> StyleJudge(3)(torch.zeros(2, 1, 64, 64)).shape
        torch.Size([2, 3])
    """

    def __init__(self, num_styles: int = 3, image_size: int = 64, width: int = 8) -> None:
        super().__init__()
        self.image_size = image_size
        channels = (width, 2 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        previous = 1
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(previous, c, 3, stride=2 if i < 3 else 1, padding=1), nn.ReLU(inplace=True)]
            previous = c
        self.features = nn.Sequential(*layers)
        self.classify = nn.Linear(2 * previous, num_styles)

    def forward(self, drawing: Tensor) -> Tensor:
        if drawing.ndim != 4 or drawing.shape[1] != 1:
            raise ValueError(f"drawing must be (B, 1, H, W) in [-1, 1], got {tuple(drawing.shape)}")
        if drawing.shape[-2:] != (self.image_size, self.image_size):
            drawing = F.interpolate(drawing, size=(self.image_size,) * 2, mode="bilinear", antialias=True)
        x = self.features(-drawing)  # ink positive: zero-padding then reads as white paper
        return self.classify(torch.cat([x.mean((-2, -1)), x.amax((-2, -1))], dim=1))

    @torch.no_grad()
    def predict(self, drawing: Tensor) -> Tensor:
        """``(B,)`` int64 style indices (0-based) of ``(B, 1, H, W)`` drawings in [-1, 1]."""
        return self(drawing).argmax(1)


def _augment(drawing: Tensor, generator: torch.Generator, shift: int) -> Tensor:
    """Random horizontal flips, translations up to ``shift`` px (white fill) and, for half of the drawings, a
    light 3×3 blur (so that slightly soft lines are judged by their style, not by their sharpness)."""
    flip, blur = (torch.rand(2, len(drawing), 1, 1, 1, generator=generator) < 0.5).unbind(0)
    drawing = torch.where(flip, drawing.flip(-1), drawing)
    soft = F.conv2d(F.pad(drawing, (1,) * 4, mode="replicate"), _BLUR.to(drawing))
    drawing = torch.where(blur, soft, drawing)
    padded = F.pad(drawing, (shift,) * 4, value=1.0)
    dy, dx = torch.randint(0, 2 * shift + 1, (2,), generator=generator).tolist()
    return padded[..., dy : dy + drawing.shape[-2], dx : dx + drawing.shape[-1]]


def train_style_judge(
    drawings: Tensor,
    styles: Tensor,
    num_styles: int = 3,
    steps: int = 200,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
) -> Frozen:
    """Train a :class:`StyleJudge` on true drawings (deterministic for a given seed); returned :class:`Frozen`.

    Args:
        drawings: ``(N, 1, S, S)`` true drawings in [-1, 1]; ``S`` becomes the judge's ``image_size``.
        styles: ``(N,)`` int64 style indices in ``[0, num_styles)``.
        num_styles: number of classes.
        steps: Adam steps on random batches with flips and small translations.
        batch_size: drawings per step.
        lr: Adam learning rate (cosine-annealed to 0).
        seed: seeds the initialisation, the batches and the augmentation.

    Returns:
        The trained judge, frozen (no gradient, always in eval; calls and `predict` go to the judge).
    """
    if drawings.ndim != 4 or drawings.shape[1] != 1 or styles.shape != drawings.shape[:1]:
        raise ValueError(
            f"need (N, 1, S, S) drawings and (N,) styles, got {tuple(drawings.shape)}, {tuple(styles.shape)}"
        )
    if styles.min() < 0 or styles.max() >= num_styles:
        raise ValueError(f"styles must lie in [0, {num_styles}), got {styles.unique().tolist()}")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        judge = StyleJudge(num_styles, drawings.shape[-1])
    optimizer = torch.optim.Adam(judge.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    shift = max(1, drawings.shape[-1] // 16)
    judge.train()
    for _ in range(steps):
        index = torch.randint(0, len(drawings), (batch_size,), generator=generator)
        loss = F.cross_entropy(judge(_augment(drawings[index], generator, shift)), styles[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return freeze(judge)
