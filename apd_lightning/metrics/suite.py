"""Building the evaluation metrics by name, with their networks loaded offline (shared by ``evaluate`` and
the ``ValidationMetrics`` callback).

The loaders are looked up in this module at call time, so tests replace them with tiny stand-ins
(``monkeypatch.setattr(suite, "load_inception_features", ...)``); user-facing code has no fallback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from torchmetrics import Metric

from ..nets.pretrained import build_lpips, load_inception_features, load_quality_net
from .fid import DrawingFID
from .kid import DrawingKID
from .lpips import DrawingLPIPS
from .quality import QualityScore

METRIC_NAMES = ("fid", "kid", "lpips", "quality")

__all__ = [
    "METRIC_NAMES",
    "build_metrics",
    "check_metric_names",
    "build_lpips",
    "load_inception_features",
    "load_quality_net",
]


def check_metric_names(names: Sequence[str]) -> list[str]:
    """The names, de-duplicated in order; raises ``ValueError`` naming any unknown one."""
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {', '.join(METRIC_NAMES)}")
    if not names:
        raise ValueError(f"no metric given; choose from {', '.join(METRIC_NAMES)}")
    return list(dict.fromkeys(names))


def build_metrics(
    names: Sequence[str],
    inception_path: str | os.PathLike | None = None,
    alexnet_path: str | os.PathLike | None = None,
    quality_path: str | os.PathLike | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, Metric]:
    """``{name: metric}`` for ``names`` among ``fid, kid, lpips, quality``; FID and KID share one Inception.

    Each ``*_path`` is a weights file; ``None`` looks in the torch hub cache (``$TORCH_HOME``).

    Raises:
        ValueError: an unknown name.
        MissingWeightsError: a needed weights file is missing (the message names it and its source).
    """
    names = check_metric_names(names)
    metrics: dict[str, Metric] = {}
    if "fid" in names or "kid" in names:
        inception = load_inception_features(inception_path)
        if "fid" in names:
            metrics["fid"] = DrawingFID(feature_extractor=inception)
        if "kid" in names:
            metrics["kid"] = DrawingKID(feature_extractor=inception, subsets=kid_subsets, subset_size=kid_subset_size)
    if "lpips" in names:
        metrics["lpips"] = DrawingLPIPS(net=build_lpips(alexnet_path))
    if "quality" in names:
        metrics["quality"] = QualityScore(net=load_quality_net(quality_path))
    return {name: metrics[name] for name in names}
