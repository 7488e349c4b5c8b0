"""The streaming detector: range, streaming equivalence, no look-ahead, bounded state, behaviour."""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.anomaly.detector import (
    DEFAULT_CONFIG,
    DEFAULT_THRESHOLD,
    StreamingDetector,
    score_series,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def noisy_daily(n: int, seed: int = 0, step: float = 300.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    values = 100 + 30 * np.sin(2 * np.pi * t / 86_400) + rng.normal(0, 3, n)
    return values, t


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=400))
def test_scores_are_in_unit_interval(values: list[float]) -> None:
    scores = score_series(values, np.arange(len(values)) * 60.0)
    assert scores.shape == (len(values),)
    assert np.all((scores >= 0.0) & (scores < 1.0))


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=2, max_size=300), st.data())
def test_no_look_ahead_prefix_scores_do_not_depend_on_the_future(values: list[float], data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(values) - 1))
    future = data.draw(st.lists(finite, min_size=1, max_size=50))
    times = np.arange(len(values) + len(future)) * 60.0
    a = score_series(values, times[: len(values)])
    b = score_series(values[:cut] + future, times[: cut + len(future)])
    assert np.array_equal(a[:cut], b[:cut])


def test_batch_scoring_equals_point_by_point_updates() -> None:
    values, t = noisy_daily(2000)
    det = StreamingDetector()
    one_by_one = np.array([det.update(v, ts) for v, ts in zip(values.tolist(), t.tolist(), strict=True)])
    assert np.array_equal(one_by_one, score_series(values, t))


def test_missing_values_score_zero_and_teach_nothing() -> None:
    values, t = noisy_daily(600)
    with_gaps = values.copy()
    with_gaps[[300, 301, 450]] = np.nan
    a = score_series(with_gaps, t)
    b = score_series(np.delete(values, [300, 301, 450]), np.delete(t, [300, 301, 450]))
    assert a[300] == a[301] == a[450] == 0.0
    assert np.array_equal(np.delete(a, [300, 301, 450]), b)


def test_state_size_does_not_grow_with_the_series() -> None:
    det = StreamingDetector()

    def size() -> int:
        total = 0
        for name in det.__slots__:
            attr = getattr(det, name)
            total += sys.getsizeof(attr)
        return total

    values, t = noisy_daily(200)
    det.score_many(values, t)
    small = size()
    values, t = noisy_daily(20_000, seed=1)
    det.score_many(values, t)
    assert size() == small


def test_spike_after_warmup_is_flagged_once() -> None:
    values, t = noisy_daily(3000)
    values[2000] += 200  # far outside anything seen
    scores = score_series(values, t)
    alerts = np.flatnonzero(scores >= DEFAULT_THRESHOLD)
    assert 2000 in alerts
    assert not np.any((alerts > 2000) & (alerts < 2000 + DEFAULT_CONFIG.refractory))


def test_level_shift_raises_one_alert_not_a_storm() -> None:
    values, t = noisy_daily(4000, seed=3)
    values[3000:] += 120
    scores = score_series(values, t)
    alerts = np.flatnonzero(scores[2000:] >= DEFAULT_THRESHOLD) + 2000
    assert alerts.size >= 1 and 3000 <= alerts[0] <= 3001
    assert alerts.size <= 3


def test_regular_daily_cycle_without_anomaly_stays_quiet() -> None:
    t = np.arange(6000) * 300.0
    values = 50 + 20 * np.sin(2 * np.pi * t / 86_400)
    scores = score_series(values, t)
    assert not np.any(scores[1000:] >= DEFAULT_THRESHOLD)


def test_flat_counts_near_zero_then_a_burst() -> None:
    values = np.zeros(1000)
    values[800] = 3.0
    scores = score_series(values)
    assert scores[800] >= DEFAULT_THRESHOLD
    assert math.isclose(float(scores[:800].max()), 0.0)


def test_works_without_timestamps() -> None:
    values, _ = noisy_daily(1500)
    values[1200] += 500
    assert score_series(values)[1200] >= DEFAULT_THRESHOLD


def test_activity_resuming_inside_an_earlier_huge_spike_or_dip_is_flagged() -> None:
    # Sparse activity, one huge spike, a long quiet spell, then sustained activity far below the
    # spike: the raw envelope still remembers the spike; the sustained views do not. Mirrored,
    # the same holds for a drop that lasts after one deep dip.
    rng = np.random.default_rng(5)
    values = np.where(rng.random(3000) < 0.05, rng.uniform(1.0, 5.0, 3000), 0.0)
    values[600] = 300.0
    values[1000:2000] = 0.0
    values[2000:2010] = 40.0
    # Without the sustained views the other views only notice once the level has moved, later.
    without = replace(DEFAULT_CONFIG, weights=(*DEFAULT_CONFIG.weights[:6], 0.0, 0.0, *DEFAULT_CONFIG.weights[8:]))
    for series in (values, 500.0 - values):
        alerts = np.flatnonzero(score_series(series)[1000:] >= DEFAULT_THRESHOLD) + 1000
        assert alerts.size and 2000 <= alerts[0] <= 2001, alerts
        assert not np.any(score_series(series, config=without)[2000:2004] >= DEFAULT_THRESHOLD)


def test_a_break_out_that_keeps_growing_raises_one_alert_not_one_per_point() -> None:
    # A ramp that sets a bigger record on each of its points: every point beats the recent peak,
    # so without the rest period each one is an alert; with it, only the first.
    values, t = noisy_daily(2200)
    values[2000:2008] += np.array([20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0, 2560.0])
    ramp = slice(2000, 2030)
    rested = score_series(values, t)[ramp] >= DEFAULT_THRESHOLD
    restless = score_series(values, t, replace(DEFAULT_CONFIG, rest_points=0))[ramp] >= DEFAULT_THRESHOLD
    assert rested.sum() == 1 and rested[0]
    assert restless.sum() > 1


def _daily_spikes(days: int, spike_minute: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy daily sine at 5-minute sampling, a three-point spike at the same minute every day that
    grows 2 % a day (a nightly job whose load creeps up, so it keeps setting small records)."""
    values, t = noisy_daily(days * 288, seed=7)
    for day in range(days):
        i = day * 288 + spike_minute // 5
        values[i : i + 3] += 60.0 * (1.0 + 0.02 * day)
    return values, t


def test_a_spike_that_recurs_at_the_same_time_every_day_stops_alerting() -> None:
    # Its first days are news; once the same time of day has reached about that height before, it
    # is a habit. Without the memory its small daily records keep alerting.
    values, t = _daily_spikes(10, 210)
    late = slice(5 * 288, 10 * 288)
    remembered = score_series(values, t)[late] >= DEFAULT_THRESHOLD
    forgetful = score_series(values, t, replace(DEFAULT_CONFIG, peak_slots=0))[late] >= DEFAULT_THRESHOLD
    assert not remembered.any()
    assert forgetful.sum() >= 2


def test_the_habit_does_not_hide_a_higher_spike_or_the_same_spike_at_another_time() -> None:
    values, t = _daily_spikes(10, 210)
    higher = values.copy()
    higher[8 * 288 + 43] += 200.0  # 03:35 on day 8, far above the nightly spike
    elsewhere = values.copy()
    elsewhere[8 * 288 + 150 : 8 * 288 + 153] += 70.0  # the nightly spike's height, at 12:30
    assert np.any(score_series(higher, t)[8 * 288 + 42 : 8 * 288 + 44] >= DEFAULT_THRESHOLD)
    assert np.any(score_series(elsewhere, t)[8 * 288 + 150 : 8 * 288 + 153] >= DEFAULT_THRESHOLD)


def test_the_recurring_peak_memory_counts_only_earlier_days() -> None:
    # 03:30 on day 1 remembers day 0's 03:30; 00:05 must not remember 23:55 of the evening before,
    # which is the neighbouring slot but ten minutes ago, not an earlier day at that time of day.
    det = StreamingDetector()
    day = 86_400.0
    for t in np.arange(0.0, 2 * day, 300.0).tolist():
        det.update(10.0, t)
    det.update(50.0, 2 * day + 210 * 60.0)  # day 2, 03:30
    det.update(50.0, 3 * day - 300.0)  # day 2, 23:55
    assert det._recurs(50.0, 3 * day + 210 * 60.0)  # day 3, 03:30: day 2 reached it
    assert not det._recurs(50.0, 3 * day + 300.0)  # day 3, 00:05: only the evening before did
    assert not det._recurs(50.0, 3 * day + 720 * 60.0)  # day 3, 12:00: never reached at noon
