"""Accuracy measures: definitions checked on hand-computed cases and by properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from barberpro.ops.forecasting import metrics

values = arrays(np.float64, st.integers(2, 50), elements=st.floats(0, 1e4, allow_nan=False))


def test_hand_computed_values() -> None:
    a, p = np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 30.0])
    assert metrics.wape(a, p) == 100 * 4 / 60
    assert np.isclose(metrics.smape(a, p), 100 * np.mean([4 / 22, 4 / 38, 0]))
    assert metrics.mase(a, p, scale=2.0) == (4 / 3) / 2
    assert metrics.mase_scale(np.array([1.0, 2, 3, 5, 6, 7]), season=3) == 4.0
    # Pinball at q=0.9: under-forecast 2 costs 0.9*2, over-forecast 2 costs 0.1*2.
    assert np.isclose(metrics.pinball(a, p, 0.9), (0.1 * 2 + 0.9 * 2 + 0) / 3)
    assert np.isclose(metrics.coverage(a, p - 1, p + 1), 100 / 3)


@given(values)
def test_perfect_forecast_scores_zero(a: np.ndarray) -> None:
    assert metrics.mase(a, a, 1.0) == 0 and metrics.wape(a, a) == 0 and metrics.smape(a, a) == 0
    assert metrics.pinball(a, a, 0.99) == 0 and metrics.coverage(a, a, a) == 100


@given(values, values)
def test_bounds(a: np.ndarray, p: np.ndarray) -> None:
    n = min(len(a), len(p))
    a, p = a[:n], p[:n]
    assert 0 <= metrics.smape(a, p) <= 200
    assert metrics.pinball(a, p, 0.99) >= 0
    assert 0 <= metrics.coverage(a, np.minimum(a, p), np.maximum(a, p)) == 100
