"""FID / KID on drawings: agreement with an independent NumPy/SciPy implementation on the same features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from torchvision.models.inception import InceptionA, InceptionE

from apd_lightning.metrics import (
    DrawingFID,
    DrawingKID,
    FIDInceptionV3,
    drawing_to_unit_rgb,
    load_inception_features,
)
from apd_lightning.metrics.inception import _FIDInceptionA, _FIDInceptionE, _pool_3x3
from apd_lightning.weights import MissingWeightsError

from .conftest import TinyFeatures


def numpy_fid(real: np.ndarray, fake: np.ndarray) -> float:
    mean_real, mean_fake = real.mean(axis=0), fake.mean(axis=0)
    cov_real, cov_fake = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    cross = scipy.linalg.sqrtm(cov_real @ cov_fake).real
    return float(((mean_real - mean_fake) ** 2).sum() + np.trace(cov_real + cov_fake - 2 * cross))


def numpy_kid(real: np.ndarray, fake: np.ndarray, degree: int = 3, coef: float = 1.0) -> float:
    """Unbiased MMD² with the polynomial kernel (x·y / d + coef)^degree on the full sets (equal sizes)."""

    def kernel(a, b):
        return (a @ b.T / real.shape[1] + coef) ** degree

    m = real.shape[0]
    k_rr, k_ff, k_rf = kernel(real, real), kernel(fake, fake), kernel(real, fake)
    within = k_rr.sum() - np.trace(k_rr) + k_ff.sum() - np.trace(k_ff)
    return float(within / (m * (m - 1)) - 2 * k_rf.mean())


@pytest.fixture
def drawings() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(40, 1, 24, 24, generator=generator) * 2 - 1
    fake = (torch.rand(40, 1, 24, 24, generator=generator) * 1.4 - 0.9).clamp(-1, 1)
    return real, fake


def _features(drawings: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return TinyFeatures()(drawing_to_unit_rgb(drawings)).double().numpy()


def test_fid_matches_scipy(drawings):
    real, fake = drawings
    fid = DrawingFID(feature_extractor=TinyFeatures())
    for chunk in real.split(16):
        fid.update(chunk, real=True)
    fid.update(fake, real=False)
    expected = numpy_fid(_features(real), _features(fake))
    assert expected > 1e-3
    assert fid.compute().item() == pytest.approx(expected, rel=1e-4)


def test_fid_of_a_set_with_itself_is_zero(drawings):
    real, _ = drawings
    fid = DrawingFID(feature_extractor=TinyFeatures())
    fid.update(real, real=True)
    fid.update(real, real=False)
    assert abs(fid.compute().item()) < 1e-3


def test_fid_states_reduce_across_processes(drawings):
    real, fake = drawings
    single, first, second = (DrawingFID(feature_extractor=TinyFeatures()) for _ in range(3))
    single.update(real, real=True)
    single.update(fake, real=False)
    for part, metric in zip((0, 1), (first, second), strict=True):
        metric.update(real[part::2], real=True)
        metric.update(fake[part::2], real=False)
    first.merge_state(second)  # what the "sum" dist_reduce_fx does across DDP ranks
    assert first.compute().item() == pytest.approx(single.compute().item(), rel=1e-6)


def test_kid_matches_numpy_and_adapts_subset_size(drawings):
    real, fake = drawings
    kid = DrawingKID(feature_extractor=TinyFeatures(), subsets=5)  # default subset_size 1000 > 40 drawings
    kid.update(real, real=True)
    kid.update(fake, real=False)
    mean, std = kid.compute()
    assert kid.last_subset_size == 40
    assert mean.item() == pytest.approx(numpy_kid(_features(real), _features(fake)), rel=1e-4)
    assert std.item() == pytest.approx(0.0, abs=1e-6)  # every subset is the whole (permuted) set


def test_kid_is_reproducible_with_unequal_sets(drawings):
    real, fake = drawings
    values = []
    for _ in range(2):
        kid = DrawingKID(feature_extractor=TinyFeatures(), subsets=10, subset_size=30, seed=3)
        kid.update(real, real=True)
        kid.update(fake[:25], real=False)
        values.append(kid.compute())
    assert kid.last_subset_size == 25
    assert torch.isfinite(values[0][0]) and values[0][0] > 0
    torch.testing.assert_close(values[0], values[1], rtol=0, atol=0)


def test_kid_needs_two_drawings_per_set(drawings):
    real, fake = drawings
    kid = DrawingKID(feature_extractor=TinyFeatures())
    kid.update(real, real=True)
    kid.update(fake[:1], real=False)
    with pytest.raises(RuntimeError, match="at least 2"):
        kid.compute()


@pytest.mark.parametrize("bad", [torch.zeros(2, 2, 8, 8), torch.zeros(2, 8, 8), torch.full((2, 1, 4, 4), 9.0)])
def test_bad_drawings_raise(bad):
    with pytest.raises(ValueError, match="drawings must be"):
        DrawingFID(feature_extractor=TinyFeatures()).update(bad, real=True)


def test_conversion_is_documented_affine_map():
    drawing = torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 1, 1, 3)
    rgb = drawing_to_unit_rgb(drawing)
    assert rgb.shape == (1, 3, 1, 3)
    torch.testing.assert_close(rgb[0, :, 0], torch.tensor([[0.0, 0.5, 1.0]] * 3))


def test_missing_inception_names_file_and_source(tmp_path, empty_hub):
    expected = r"nope\.pth.*pt_inception-2015-12-05-6726825d\.pth.*mseitzer"
    with pytest.raises(MissingWeightsError, match=expected):
        DrawingFID(inception_path=tmp_path / "nope.pth")
    with pytest.raises(MissingWeightsError, match="hub cache"):
        DrawingKID()


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


def test_fid_inception_loads_torchvision_named_weights(tmp_path):
    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    assert state["fc.weight"].shape == (1008, 2048)
    assert "Mixed_7c.branch_pool.conv.weight" in state and not any(k.startswith("AuxLogits") for k in state)
    path = tmp_path / "pt_inception.pth"
    torch.save(state, path)
    loaded = load_inception_features(path)
    torch.testing.assert_close(
        loaded.state_dict()["Mixed_6e.branch_pool.conv.weight"], state["Mixed_6e.branch_pool.conv.weight"]
    )
    loaded.train()
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    torch.save({"fc.weight": torch.zeros(1000, 2048)}, path)
    with pytest.raises(ValueError, match="not the FID Inception"):
        load_inception_features(path)


@pytest.mark.slow
def test_fid_inception_forward_gives_pool3_features():
    with torch.no_grad():
        features = FIDInceptionV3()(torch.rand(2, 3, 64, 64))  # resized to 299 inside: seconds on a busy CPU
    assert features.shape == (2, 2048) and torch.isfinite(features).all()
