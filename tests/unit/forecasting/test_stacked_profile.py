"""The stacked profile: weights learned from the past only, by a robust fit, scale-free."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.forecasting import DailyProfileForecaster
from barberpro.ops.forecasting.stacked import StackedProfileForecaster, lad_ridge

STEP = 30.0
PER_DAY = 48


def weekly_series(days: int, seed: int = 0) -> np.ndarray:
    """A daily cycle whose weekends carry a third of the weekday traffic, with noise."""
    t = np.arange(days * PER_DAY)
    weekend = (t // PER_DAY) % 7 >= 5
    rate = (100 + 60 * np.sin(2 * np.pi * t / PER_DAY)) * np.where(weekend, 1 / 3, 1.0)
    return np.maximum(rate + np.random.default_rng(seed).normal(0, 3, len(t)), 0)


def test_lad_ridge_recovers_weights_and_shrugs_off_outliers() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 10, (2000, 3))
    truth = np.array([0.2, 0.5, 0.3])
    y = x @ truth + rng.normal(0, 0.01, 2000)
    y[:100] += 500  # one row in twenty is a spike
    prior = np.array([1.0, 0.0, 0.0])
    robust = lad_ridge(x, y, prior, strength=1e-6)
    squared = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.allclose(robust, truth, atol=0.02)
    assert np.abs(squared - truth).max() > 1.0  # least squares is pulled by the spikes
    # A strong pull keeps the prior.
    assert np.allclose(lad_ridge(x, y, prior, strength=1e6), prior, atol=1e-3)


@given(st.integers(0, 50), st.booleans())
@settings(max_examples=25, deadline=None)
def test_normal_equations_reach_the_rows_solvers_weights(seed: int, non_negative: bool) -> None:
    # Collinear features (as the profile's pieces are) and a weight the data wants negative.
    rng = np.random.default_rng(seed)
    base = rng.uniform(1, 100, 3000)
    x = np.column_stack([base, base * rng.uniform(0.9, 1.1, 3000), rng.uniform(0, 50, 3000)])
    y = x @ np.array([0.7, 0.5, -0.2]) + rng.standard_t(2, 3000)
    prior = np.array([0.5, 0.5, 0.0])
    recency = 0.5 ** (np.arange(3000)[::-1] / 1000)
    normal = lad_ridge(x, y, prior, 1e-3, recency, non_negative=non_negative)
    rows = lad_ridge(x, y, prior, 1e-3, recency, non_negative=non_negative, solver="rows")
    np.testing.assert_allclose(normal, rows, rtol=1e-7, atol=1e-9)
    if non_negative:
        assert normal.min() >= 0.0


def test_it_learns_the_weekday_pattern_the_daily_profile_blurs() -> None:
    y = weekly_series(5 * 7 + 1)  # ends on a Monday morning, after a weekend
    origin = 5 * 7 * PER_DAY - PER_DAY * 2  # Saturday 00:00: a weekend day ahead
    stacked = StackedProfileForecaster(STEP).fit(y[:origin])
    truth = y[origin : origin + PER_DAY]
    profile_error = np.abs(DailyProfileForecaster(STEP)(y[:origin], PER_DAY) - truth).mean()
    stacked_error = np.abs(stacked(y[:origin], PER_DAY) - truth).mean()
    assert stacked_error < 0.5 * profile_error
    weights = dict(zip(stacked.feature_names, stacked.weights[-1], strict=True))
    assert weights["last_week"] + weights["same_weekday"] > 0.8  # the day-ahead bucket trusts the weekday


def test_it_uses_only_the_past_and_refits_once_a_day() -> None:
    y = weekly_series(20)
    origin = 15 * PER_DAY + 7
    fc = StackedProfileForecaster(STEP)
    before = fc(y[:origin], 6)
    assert fc._fitted_at == origin
    changed = y.copy()
    changed[origin:] *= 10  # the future changes: the forecast from the same origin does not
    assert np.array_equal(StackedProfileForecaster(STEP)(changed[:origin], 6), before)
    fc(y[: origin + PER_DAY - 1], 6)
    assert fc._fitted_at == origin  # within the day: the same weights
    fc(y[: origin + PER_DAY], 6)
    assert fc._fitted_at == origin + PER_DAY
    # A caller that starts over on a shorter history (a live scaler keeping a retained tail)
    # gets weights fitted on that history, not on steps it no longer has.
    tail = y[3 * PER_DAY : origin]
    assert np.array_equal(fc(tail, 6), StackedProfileForecaster(STEP)(tail, 6))
    assert fc._fitted_at == len(tail)


def test_it_falls_back_to_the_daily_profile_with_little_history() -> None:
    y = weekly_series(3)
    for length in (0, 1, PER_DAY // 2, PER_DAY + 3):
        assert np.allclose(StackedProfileForecaster(STEP)(y[:length], 5), DailyProfileForecaster(STEP)(y[:length], 5))


@settings(max_examples=8, deadline=None)
@given(st.floats(1e-3, 1e4), st.integers(0, 3))
def test_it_is_scale_free(k: float, seed: int) -> None:
    y = weekly_series(16, seed=seed)
    assert np.allclose(StackedProfileForecaster(STEP)(y * k, 12), StackedProfileForecaster(STEP)(y, 12) * k, rtol=1e-6)


@settings(max_examples=6, deadline=None)
@given(st.integers(-20, 20), st.integers(0, 3))
def test_traffic_scaled_by_a_power_of_two_gets_the_identical_forecast(k: int, seed: int) -> None:
    # The autoscaler's replica series must not depend on the unit of traffic.
    y = weekly_series(16, seed=seed)
    scaled = StackedProfileForecaster(STEP)(y * 2.0**k, 12)
    assert np.array_equal(scaled, StackedProfileForecaster(STEP)(y, 12) * 2.0**k)


def assert_training_features_match_one_origin_path(
    base: DailyProfileForecaster, y: np.ndarray, origins: np.ndarray, horizons: np.ndarray, share: float
) -> None:
    """The fit's features for all origins at once equal `features(components)` origin by origin
    (they must be the forecast's own), for at least `share` of the origins (the rest have no profile)."""
    from barberpro.ops.forecasting.stacked import features, training_features

    blocks = training_features(base, y, origins, horizons)
    checked = 0
    for origin, h in zip(origins.tolist(), horizons.tolist(), strict=True):
        parts = base.components(y[:origin], h)
        if parts is None:
            assert origin not in blocks
            continue
        np.testing.assert_allclose(blocks[origin], features(parts), rtol=1e-9, atol=1e-9)
        checked += 1
    assert checked > share * len(origins)


def test_training_features_at_once_equal_the_one_origin_path() -> None:
    y = weekly_series(24, seed=5)
    y[10 * PER_DAY : 10 * PER_DAY + 30] = 0.0  # an outage, so the ratio's floor is exercised
    origins = np.arange(PER_DAY - 3, len(y) - 1, 7)
    horizons = np.minimum(np.where(np.arange(len(origins)) % 3 == 0, PER_DAY, 4), len(y) - origins)
    base = DailyProfileForecaster(STEP, week_ago_level=True)
    assert_training_features_match_one_origin_path(base, y, origins, horizons, 0.9)


@pytest.mark.parametrize("per_lead_rows", [False, True])
def test_training_features_equal_the_one_origin_path_on_five_minute_steps(per_lead_rows: bool) -> None:
    # Five-minute steps smooth over three steps, so a day-ahead forecast's last lead
    # reaches past now with yesterday's row: the rows rule matters here.
    per_day = 288
    t = np.arange(16 * per_day)
    y = 50 + 30 * np.sin(2 * np.pi * t / per_day) + np.random.default_rng(3).gamma(2.0, 3.0, len(t))
    base = DailyProfileForecaster(5.0, per_lead_rows=per_lead_rows, week_ago_level=True)
    origins = np.arange(per_day - 2, len(y) - 1, 97)
    horizons = np.minimum(np.where(np.arange(len(origins)) % 2 == 0, per_day, 24), len(y) - origins)
    assert_training_features_match_one_origin_path(base, y, origins, horizons, 0.8)


def test_per_lead_rows_keep_yesterday_for_the_leads_it_can_serve() -> None:
    per_day = 288
    t = np.arange(9 * per_day)
    y = 50 + 30 * np.sin(2 * np.pi * t / per_day) + np.random.default_rng(4).gamma(2.0, 3.0, len(t))
    y[-per_day:] += 40  # yesterday stands out: whether its row is used shows in the median
    whole = DailyProfileForecaster(5.0).profile_parts(y, len(y), len(y) + per_day)
    per_lead = DailyProfileForecaster(5.0, per_lead_rows=True).profile_parts(y, len(y), len(y) + per_day)
    assert whole is not None and per_lead is not None
    # The median of the 7 days before each step, smoothed over 3 steps centred on it.
    smooth = np.convolve(y, np.ones(3) / 3, mode="full")[2:]  # smooth[j] = mean(y[j : j + 3])
    lead = np.arange(per_day - 1)  # every lead but the last, whose window would reach past now
    rows = [smooth[len(y) + lead - d * per_day - 1] for d in range(1, 8)]
    np.testing.assert_allclose(per_lead[0][: per_day - 1], np.median(rows, axis=0), rtol=1e-12)
    rows_without_yesterday = np.median(rows[1:], axis=0)
    np.testing.assert_allclose(whole[0][: per_day - 1], rows_without_yesterday, rtol=1e-12)
    assert not np.allclose(whole[0][: per_day - 1], per_lead[0][: per_day - 1])
    # The last lead cannot use yesterday under either rule.
    np.testing.assert_allclose(per_lead[0][-1], whole[0][-1], rtol=1e-12)


def test_a_refit_on_too_short_a_history_forgets_the_old_weights() -> None:
    y = weekly_series(20)
    fc = StackedProfileForecaster(STEP).fit(y)
    assert fc.fitted.all()
    fc.fit(y[: 3 * PER_DAY])  # under the 7 days it needs: back to the daily profile
    assert not fc.fitted.any()
    assert np.array_equal(fc.forecast(y[: 3 * PER_DAY], 5), DailyProfileForecaster(STEP)(y[: 3 * PER_DAY], 5))


def test_the_level_gap_variant_weighs_six_features_and_stays_scale_free() -> None:
    y = weekly_series(16, seed=2)
    fc = StackedProfileForecaster(STEP, level_gap=True).fit(y)
    assert fc.weights.shape[1] == len(fc.feature_names) == 6
    assert fc.feature_names[-1] == "profile_plus_gap"
    forecast = fc(y, PER_DAY)
    assert np.array_equal(StackedProfileForecaster(STEP, level_gap=True)(y * 8.0, PER_DAY), forecast * 8.0)


def test_the_weekly_ratio_feature_is_last_week_at_the_current_level() -> None:
    y = weekly_series(16, seed=6)
    y[-4:] *= 1.5  # the last two hours run 50 % above last week's
    parts = DailyProfileForecaster(STEP, week_ago_level=True).components(y, 6)
    assert parts is not None
    from barberpro.ops.forecasting.stacked import FEATURES, features

    column = features(parts)[:, FEATURES.index("last_week_x_ratio")]
    ratio = (parts.recent_level + parts.floor) / (parts.recent_week_ago + parts.floor)
    np.testing.assert_allclose(column, parts.last_week * ratio)
    # The level window is one step here (30 minutes): last week's step before now.
    assert parts.recent_week_ago == y[-1 - 7 * PER_DAY]
    assert ratio > 1.3
    fc = StackedProfileForecaster(STEP, weekly_ratio=True)
    assert fc.feature_names[-1] == "last_week_x_ratio" and len(fc.feature_names) == 6
    # The default forecaster does not read the week-ago level at all (it is on every forecast's path).
    default_parts = DailyProfileForecaster(STEP).components(y, 6)
    assert default_parts is not None and np.isnan(default_parts.recent_week_ago)
    assert not StackedProfileForecaster(STEP).base.week_ago_level
