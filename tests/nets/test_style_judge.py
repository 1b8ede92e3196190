"""The independent style judge: trained on true drawings, it tells held-out faces' styles apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from apd_lightning.data.demo import render_portrait
from apd_lightning.nets.style_judge import StyleJudge, train_style_judge


def _drawings(seeds, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Each face of ``seeds`` drawn in the three demo styles: ``(3N, 1, S, S)`` in [-1, 1] and styles."""
    images, styles = [], []
    for seed in seeds:
        for style in range(3):
            images.append(render_portrait(np.random.default_rng([7, seed]), size, style).drawing)
            styles.append(style)
    x = torch.from_numpy(np.stack(images)).float()[:, None] / 127.5 - 1
    return x, torch.tensor(styles)


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    drawings, styles = _drawings(range(10))
    return train_style_judge(drawings, styles, steps=120, seed=0)


def test_judge_reads_the_style_of_held_out_faces(trained):
    drawings, styles = _drawings(range(100, 106))
    assert (trained.predict(drawings) == styles).float().mean() >= 0.9  # chance: 1/3
    assert not trained.training and not any(p.requires_grad for p in trained.parameters())


def test_training_is_deterministic_for_a_seed():
    drawings, styles = _drawings(range(2), size=32)
    a, b = (train_style_judge(drawings, styles, steps=3, batch_size=4, seed=1) for _ in range(2))
    c = train_style_judge(drawings, styles, steps=3, batch_size=4, seed=2)
    first, second, other = (list(j.state_dict().values()) for j in (a, b, c))
    assert all(torch.equal(x, y) for x, y in zip(first, second, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(first, other, strict=True))


def test_judge_shapes_resizing_and_errors():
    judge = StyleJudge(num_styles=4, image_size=32)
    assert judge(torch.zeros(2, 1, 32, 32)).shape == (2, 4)
    assert judge(torch.zeros(2, 1, 64, 64)).shape == (2, 4)  # resized to its own size first
    assert judge.predict(torch.zeros(3, 1, 48, 48)).dtype == torch.int64
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        judge(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="styles must lie"):
        train_style_judge(torch.zeros(2, 1, 16, 16), torch.tensor([0, 3]), steps=1)
    with pytest.raises(ValueError, match=r"\(N, 1, S, S\)"):
        train_style_judge(torch.zeros(2, 1, 16, 16), torch.tensor([0]), steps=1)
