"""Models behind the one interface: shapes, quantile order, known answers, robustness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.forecasting import DailyProfileForecaster, hybrid_available, make_model
from barberpro.ops.forecasting.evaluation import EvaluationSpec, rolling_origin
from barberpro.ops.forecasting.naive import seasonal_naive

STEP = 30.0  # minutes: 48 steps a day keeps statsforecast fits fast
PER_DAY = 48


def daily_series(days: int, seed: int = 0, noise: float = 5.0) -> np.ndarray:
    t = np.arange(days * PER_DAY)
    rate = 100 + 60 * np.sin(2 * np.pi * t / PER_DAY)
    return np.maximum(rate + np.random.default_rng(seed).normal(0, noise, len(t)), 0)


def test_seasonal_naive_repeats_the_last_season() -> None:
    y = np.arange(10.0)
    assert list(seasonal_naive(y, 5, 4)) == [6, 7, 8, 9, 6]
    assert list(seasonal_naive(y[:2], 3, 4)) == [1, 1, 1]  # shorter than a season: last value


@pytest.mark.parametrize(
    "name",
    [
        "seasonal_naive_day",
        "seasonal_naive_week",
        "daily_profile",
        "autoets",
        "mstl",
        "profile_ets",
        "weighted_profile",
        "stacked_profile",
    ],
)
def test_every_model_forecasts_with_ordered_quantiles(name: str) -> None:
    y = daily_series(16)
    model = make_model(name).fit(y, STEP)
    f = model.predict(y, 12)
    assert f.mean.shape == (12,) and np.all(np.isfinite(f.mean)) and np.all(f.mean >= 0)
    q = f.quantiles
    assert np.all(q[0.025] <= q[0.1] + 1e-9) and np.all(q[0.1] <= q[0.9] + 1e-9)
    assert np.all(q[0.9] <= q[0.975] + 1e-9) and np.all(q[0.975] <= q[0.99] + 1e-9)
    # On a clean daily cycle every model lands close to the truth.
    truth = 100 + 60 * np.sin(2 * np.pi * np.arange(len(y), len(y) + 12) / PER_DAY)
    assert np.mean(np.abs(f.mean - truth)) < 20


def test_daily_profile_follows_a_level_shift_and_survives_an_outage() -> None:
    y = daily_series(8)
    y[-PER_DAY - 10 : -PER_DAY + 10] = 0  # an outage a day ago
    y[-4:] *= 3  # demand tripled in the last two hours
    forecast = DailyProfileForecaster(STEP)(y, 4)
    truth = 3 * (100 + 60 * np.sin(2 * np.pi * np.arange(len(y), len(y) + 4) / PER_DAY))
    assert np.all(np.abs(forecast / truth - 1) < 0.35)


@settings(max_examples=25, deadline=None)
@given(st.floats(1e-3, 1e4), st.integers(0, 5))
def test_daily_profile_is_scale_free(k: float, seed: int) -> None:
    y = daily_series(8, seed=seed)
    fc = DailyProfileForecaster(STEP)
    assert np.allclose(fc(y * k, 24), fc(y, 24) * k, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("length", [0, 1, 5, PER_DAY - 1])
def test_daily_profile_falls_back_with_short_history(length: int) -> None:
    y = np.full(length, 7.0)
    f = DailyProfileForecaster(STEP)(y, 3)
    assert f.shape == (3,) and np.all(f == (7.0 if length else 0.0))


def test_rolling_origin_reports_every_measure_and_beats_naive_on_a_daily_cycle() -> None:
    y = daily_series(14, noise=10.0)
    spec = EvaluationSpec(test_days=3, short_horizon_minutes=60, short_origin_minutes=120)
    naive = rolling_origin(lambda: make_model("seasonal_naive_day"), y, STEP, spec)
    ours = rolling_origin(lambda: make_model("default"), y, STEP, spec)
    short, long = ours["h2_steps"], ours["h48_steps"]
    for key in ("mase", "wape", "smape", "pinball_q99_scaled", "coverage_80", "coverage_95"):
        assert key in short and key in long  # type: ignore[operator]
    assert ours["refits"] == 3 and short["forecasts"] == 3 * 12  # type: ignore[index]
    assert ours["h48_steps"]["mase"] < naive["h48_steps"]["mase"]  # type: ignore[index]


@pytest.mark.skipif(not hybrid_available(), reason="the [hybrid] extra (prophet, torch) is not installed")
def test_prophet_lstm_hybrid_fits_and_forecasts() -> None:
    from barberpro.ops.forecasting.hybrid import ProphetLstmModel

    y = daily_series(10)
    model = ProphetLstmModel(epochs=1, max_windows=500).fit(y, STEP)
    f = model.predict(y, 6)
    truth = 100 + 60 * np.sin(2 * np.pi * np.arange(len(y), len(y) + 6) / PER_DAY)
    assert np.mean(np.abs(f.mean - truth)) < 25
    assert np.all(f.quantiles[0.1] <= f.quantiles[0.9])


def test_profile_ets_ensemble_is_the_mean_of_its_members() -> None:
    y = daily_series(16, seed=4)
    ensemble = make_model("profile_ets").fit(y, STEP)
    profile = make_model("daily_profile").fit(y, STEP)
    ets = make_model("autoets").fit(y, STEP)
    f = ensemble.predict(y, 6)
    expected = (profile.predict(y, 6).mean + ets.predict(y, 6).mean) / 2
    assert np.allclose(f.mean, expected)


def test_backtest_weighting_favours_the_candidate_that_was_right_lately() -> None:
    from barberpro.ops.forecasting.select import BacktestWeightedForecaster

    y = daily_series(8)
    good = DailyProfileForecaster(STEP)

    def bad(history: np.ndarray, horizon: int) -> np.ndarray:
        return np.full(horizon, 3.0 * float(np.mean(history[-PER_DAY:])))

    fc = BacktestWeightedForecaster(STEP, {"good": good, "bad": bad})
    w = fc.weights(y, 4)
    assert w[0] > 0.9 and abs(float(w.sum()) - 1) < 1e-9
    assert np.allclose(fc(y, 4), good(y, 4), rtol=0.2)
    # Under three days of history (a day plus the backtest window) it uses the first candidate alone.
    assert list(fc.weights(y[: 2 * PER_DAY], 4)) == [1.0, 0.0]


@settings(max_examples=10, deadline=None)
@given(st.floats(1e-3, 1e4), st.integers(0, 3))
def test_additive_profile_and_weighting_are_scale_free(k: float, seed: int) -> None:
    from barberpro.ops.forecasting.select import BacktestWeightedForecaster

    y = daily_series(8, seed=seed)
    additive = DailyProfileForecaster(STEP, additive=True)
    assert np.allclose(additive(y * k, 12), additive(y, 12) * k, rtol=1e-9, atol=1e-9)
    assert np.allclose(
        BacktestWeightedForecaster(STEP)(y * k, 12), BacktestWeightedForecaster(STEP)(y, 12) * k, rtol=1e-6, atol=1e-9
    )
