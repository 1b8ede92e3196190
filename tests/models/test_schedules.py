"""The learning-rate rule: constant, then a linear decay."""

from __future__ import annotations

import pytest

from apd_lightning.models.schedules import LinearDecay


def test_upd_learning_rate_is_flat_for_100_epochs_then_reaches_half():
    rule = LinearDecay(100, 200)
    assert rule(99) == 1.0 and rule(100) == pytest.approx(1 - 1 / 201) and rule(199) == pytest.approx(0.502, abs=1e-3)


def test_linear_decay_rule():
    assert [LinearDecay(300, 0)(e) for e in (0, 299, 500)] == [1.0, 1.0, 1.0]
    rule = LinearDecay(100, 200)
    assert rule(0) == 1.0 and rule(99) == 1.0
    assert rule(100) == pytest.approx(1 - 1 / 201)
    assert rule(199) == pytest.approx(1 - 100 / 201)
