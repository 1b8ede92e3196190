"""FID on drawings: agreement with an independent NumPy/SciPy implementation on the same features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from apd_lightning.metrics import (
    DrawingFID,
    DrawingKID,
)
from apd_lightning.weights import MissingWeightsError
from tests.builders import TinyFeatures, tiny_features


def numpy_fid(real: np.ndarray, fake: np.ndarray) -> float:
    mean_real, mean_fake = real.mean(axis=0), fake.mean(axis=0)
    cov_real, cov_fake = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    cross = scipy.linalg.sqrtm(cov_real @ cov_fake).real
    return float(((mean_real - mean_fake) ** 2).sum() + np.trace(cov_real + cov_fake - 2 * cross))


def test_fid_matches_scipy(drawings):
    real, fake = drawings
    fid = DrawingFID(feature_extractor=TinyFeatures())
    for chunk in real.split(16):
        fid.update(chunk, real=True)
    fid.update(fake, real=False)
    expected = numpy_fid(tiny_features(real), tiny_features(fake))
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


@pytest.mark.parametrize("bad", [torch.zeros(2, 2, 8, 8), torch.zeros(2, 8, 8), torch.full((2, 1, 4, 4), 9.0)])
def test_bad_drawings_raise(bad):
    with pytest.raises(ValueError, match="drawings must be"):
        DrawingFID(feature_extractor=TinyFeatures()).update(bad, real=True)


def test_missing_inception_names_file_and_source(tmp_path, empty_hub):
    expected = r"nope\.pth.*pt_inception-2015-12-05-6726825d\.pth.*mseitzer"
    with pytest.raises(MissingWeightsError, match=expected):
        DrawingFID(inception_path=tmp_path / "nope.pth")
    with pytest.raises(MissingWeightsError, match="hub cache"):
        DrawingKID()
