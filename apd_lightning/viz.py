"""Matplotlib figures for notebooks: a batch at a glance, image columns, and drawings over style mixes.

Matplotlib is imported when a figure is drawn, so importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.utils import make_grid

from .ops.face_parts import REGIONS


def to_numpy_image(image: Tensor) -> np.ndarray:
    """``(C, H, W)`` in [-1, 1] (C = 1 or 3) -> ``(H, W)`` or ``(H, W, 3)`` float array in [0, 1]."""
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"expected a (1 or 3, H, W) image, got shape {tuple(image.shape)}")
    array = ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def _mask_overlay(masks: Tensor, opacity: float = 0.45) -> np.ndarray:
    """``(3, H, W)`` region masks in [0, 1] -> an ``(H, W, 4)`` RGBA overlay, transparent outside the regions."""
    rgb = masks.detach().float().cpu().permute(1, 2, 0).numpy()
    return np.concatenate([rgb, opacity * rgb.max(axis=-1, keepdims=True)], axis=-1)


def plot_batch(batch, max_images: int = 4):
    """One row per sample: the photo (with its landmarks or region masks), the drawing and the masks.

    Works with :class:`~apd_lightning.data.PairedBatch` (landmarks, person mask) and
    :class:`~apd_lightning.data.UnpairedBatch` (nose / eyes / lips masks, style vector).

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    rows = min(len(batch), max_images)
    paired = hasattr(batch, "landmarks")
    titles = (
        ["photo + landmarks", "drawing", "person mask"]
        if paired
        else ["photo + region masks", "drawing + region masks", f"photo masks (RGB = {', '.join(REGIONS)})"]
    )
    figure, axes = plt.subplots(rows, 3, figsize=(7.5, 2.5 * rows), squeeze=False)
    for row in range(rows):
        photo = to_numpy_image(batch.photo[row])
        drawing = None if batch.drawing is None else to_numpy_image(batch.drawing[row])
        axes[row, 0].imshow(photo)
        if paired:
            x, y = batch.landmarks[row].cpu().numpy().T
            axes[row, 0].scatter(x, y, s=12, c="red")
            third = batch.background_mask[row, 0].cpu().numpy()
        else:
            axes[row, 0].imshow(_mask_overlay(batch.photo_masks[row]))
            third = batch.photo_masks[row].permute(1, 2, 0).cpu().numpy()
        if drawing is not None:
            axes[row, 1].imshow(drawing, cmap="gray", vmin=0, vmax=1)
            if not paired:
                axes[row, 1].imshow(_mask_overlay(batch.drawing_masks[row]))
                style = ", ".join(f"{v:.2f}" for v in batch.style[row].tolist())
                axes[row, 1].set_xlabel(f"style [{style}]")
        axes[row, 2].imshow(third, cmap="gray", vmin=0, vmax=1)
        for column, axis in enumerate(axes[row]):
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(titles[column], fontsize=9)
    figure.tight_layout()
    return figure


def plot_images(columns: dict[str, Tensor], max_images: int = 4):
    """Image columns side by side, one row per sample.

    Args:
        columns: ``{title: (B, C, H, W) in [-1, 1]}`` with C = 1 (shown in gray) or 3.
        max_images: rows at most.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    rows = min(min(len(images) for images in columns.values()), max_images)
    figure, axes = plt.subplots(rows, len(columns), figsize=(2.5 * len(columns), 2.5 * rows), squeeze=False)
    for column, (title, images) in enumerate(columns.items()):
        for row in range(rows):
            axes[row, column].imshow(to_numpy_image(images[row]), cmap="gray", vmin=0, vmax=1)
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
        axes[0, column].set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def style_path(num_styles: int = 3, steps: int = 3) -> dict[str, list[float]]:
    """Style vectors along style 1 → 2 → … → ``num_styles``, with ``steps - 1`` even mixes between neighbours.

    Example:
        >>> list(style_path(3, 2).values())
        [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    """
    if num_styles < 2 or steps < 1:
        raise ValueError(f"need num_styles >= 2 and steps >= 1, got {num_styles} and {steps}")
    vectors = []
    for start in range(num_styles - 1):
        for step in range(steps):
            vector = [0.0] * num_styles
            vector[start], vector[start + 1] = 1 - step / steps, step / steps
            vectors.append(vector)
    vectors.append([0.0] * (num_styles - 1) + [1.0])
    return {"/".join(f"{v:.2g}" for v in vector): vector for vector in vectors}


@torch.no_grad()
def style_grid(generator: nn.Module, photo: Tensor, styles: dict[str, list[float]]) -> Tensor:
    """Drawings of every photo (rows) in every style (columns), the photos first, as one image.

    Args:
        generator: a style generator ``(photo (B, 3, H, W), style (B, S)) -> (B, 1, H, W)``, e.g. QMUPD's.
        photo: ``(B, 3, H, W)`` in [-1, 1].
        styles: ``{name: style vector}``, e.g. :func:`style_path`.

    Returns:
        ``(3, H', W')`` in [0, 1]: ``B`` rows of ``1 + len(styles)`` tiles.
    """
    columns = [photo]
    for vector in styles.values():
        style = photo.new_tensor(vector).expand(len(photo), -1)
        columns.append(generator(photo, style).expand(-1, 3, -1, -1))
    tiles = torch.stack(columns, dim=1).flatten(0, 1).float().cpu()
    return make_grid((tiles + 1) / 2, nrow=len(columns), padding=2, pad_value=1.0).clamp(0, 1)


def plot_style_grid(generator: nn.Module, photo: Tensor, styles: dict[str, list[float]]):
    """:func:`style_grid` as a figure whose columns are titled by the style names."""
    import matplotlib.pyplot as plt

    grid = style_grid(generator, photo, styles)
    tile = photo.shape[-1] + 2
    figure, axis = plt.subplots(figsize=(1.3 * (len(styles) + 1), 1.3 * len(photo) + 0.6))
    axis.imshow(grid.permute(1, 2, 0).numpy())
    axis.set_xticks([tile * (k + 0.5) for k in range(len(styles) + 1)], ["photo", *styles], fontsize=7, rotation=45)
    axis.set_yticks([])
    figure.tight_layout()
    return figure
