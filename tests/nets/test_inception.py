"""The FID Inception-v3: the pooling quirks of the TF graph and torchvision-named weights."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.inception import InceptionA, InceptionE

from apd_lightning.metrics import (
    FIDInceptionV3,
)
from apd_lightning.nets.inception import _FIDInceptionA, _FIDInceptionE, _pool_3x3


def test_fid_pooling_excludes_padding():
    ones = torch.ones(1, 1, 5, 5)
    torch.testing.assert_close(_pool_3x3(ones, "avg"), ones)  # torchvision's pool would give 4/9 in corners
    assert _pool_3x3(torch.arange(25.0).reshape(1, 1, 5, 5), "max")[0, 0, 0, 0] == 6


def test_fid_blocks_change_only_the_pooled_branch():
    torch.manual_seed(0)
    for reference, fid_block in [
        (InceptionA(16, pool_features=8), _FIDInceptionA(16, pool_features=8)),
        (InceptionE(16), _FIDInceptionE(16, pool="max")),
    ]:
        fid_block.load_state_dict(reference.state_dict())
        fid_block.eval(), reference.eval()
        x = torch.rand(1, 16, 6, 6) + 0.5
        with torch.no_grad():
            ours, theirs = fid_block._forward(x), reference._forward(x)
        for a, b in zip(ours[:-1], theirs[:-1], strict=True):
            torch.testing.assert_close(a, b)
        assert not torch.allclose(ours[-1], theirs[-1])
    # with count_include_pad=False only the border of the average-pooled branch differs
    block = _FIDInceptionA(16, pool_features=8).eval()
    with torch.no_grad():
        pooled = block._forward(x)[-1]
        padded = InceptionA._forward(block, x)[-1]
    torch.testing.assert_close(pooled[..., 1:-1, 1:-1], padded[..., 1:-1, 1:-1])


@pytest.mark.slow
def test_fid_inception_forward_gives_pool3_features():
    with torch.no_grad():
        features = FIDInceptionV3()(torch.rand(2, 3, 64, 64))  # resized to 299 inside: seconds on a busy CPU
    assert features.shape == (2, 2048) and torch.isfinite(features).all()
