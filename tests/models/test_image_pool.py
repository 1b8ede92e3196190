"""The history pool of fakes: filling, mixing, companions kept together."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.models.image_pool import ImagePool

pytestmark = pytest.mark.usefixtures("one_thread")


def test_pool_fills_then_mixes_history_keeping_tuples_together():
    import random

    pool = ImagePool(3, rng=random.Random(0))
    first = pool.query(torch.arange(3.0)[:, None], torch.arange(3.0)[:, None] * 10)
    assert torch.equal(first[0][:, 0], torch.arange(3.0)) and len(pool) == 3
    seen_old = False
    for step in range(1, 30):
        values = torch.full((2, 1), 100.0 * step) + torch.arange(2.0)[:, None]
        a, b = pool.query(values, values * 10)
        assert torch.equal(b, a * 10)  # each returned sample comes with its own companions
        seen_old |= bool((a < 100 * step).any())
        assert len(pool) == 3
    assert seen_old and pool.queries == 30


def test_pool_of_size_zero_is_a_pass_through_and_batch_sizes_must_match():
    pool = ImagePool(0)
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    (out,) = pool.query(x)
    assert torch.equal(out, x) and not out.requires_grad
    with pytest.raises(ValueError, match="batch size"):
        ImagePool(2).query(torch.zeros(2, 1), torch.zeros(3, 1))
