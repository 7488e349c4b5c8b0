"""The default streaming anomaly detector: multi-view envelope novelty with a refractory period.

One value at a time, O(1) time and memory per point, no look-ahead: nothing here knows the
length, the minimum or the maximum of the whole series.

Each value is looked at through nine *views*:

0. the raw value;
1. a slow exponentially weighted mean (level: shifts and drifts);
2. a fast and 3. a slow exponentially weighted mean absolute deviation (volatility: a metric
   that suddenly turns noisy, or goes flat); view 2 has weight 0 by default (kept for sites that
   want it: on nab-dev it raised alerts outside the labelled windows and found none alone);
4. the residual against a time-of-day profile (one EWMA per 30-minute slot of the day), and
5. that residual's own volatility (daily-cycle anomalies: a missing peak, a shifted rush hour).
   Views 4 and 5 need timestamps; without them they stay silent.
6. the sustained high, the smaller of the last two values, judged only when it rises above its
   envelope: a one-point spike does not raise that envelope, so activity resuming after one
   huge spike (which blinds view 0 for a long time) still breaks out here; and
7. the sustained low, the larger of the last two values, judged only when it falls below its
   envelope (a drop that lasts, against one deep dip long ago).
   Their other side would only repeat view 0.
8. the volatility of the residual against a time-of-week profile (56 three-hour slots): a
   weekday that behaves like a Sunday, or a weekly rhythm that breaks. Needs timestamps and a
   full week of history per slot.

Each view keeps an *envelope*: the lowest and highest value it has produced, relaxing slowly
towards its own running mean so that old extremes fade (a level shift becomes the new normal
after a while). A point's surprise in a view is how far it breaks out of that envelope, in units
of the envelope's width, after discounting ``margin`` typical steps of that view (noise sets new
records now and then by a fraction of a step; that is not news). The raw score is the largest
weighted break-out over the views; novelty relative to the series' own history is what the best
NAB detectors exploit, and envelopes give it in constant memory. The raw score is mapped to
[0, 1) by ``raw / (raw + score_scale)``, which only changes the scale, not the ranking.

A *recurring-peak memory* then tells news from a daily habit: for each 15-minute slot of the day
it remembers the highest and lowest raw value that slot (or a neighbouring one, for jitter)
reached on earlier days, a memory that relaxes slowly towards each new day's extremes. A point
whose raw value lies within that range repeats what the same time of day has already done (a
nightly batch job's spike, a rush hour), so its break-outs in the raw, volatility and sustained
views are not counted; the level and time-of-day residual views still judge it. It needs
timestamps and is silent for a slot without a full earlier day.

A refractory stage then keeps only the first point of a burst: a score passes when it exceeds the
recent peak, which decays linearly to zero over ``refractory`` points; scores below it are
multiplied by ``damping``. So one incident gives one alert at whatever threshold is chosen, and a
later, stronger break-out still gets through. A rest period (as in CAD OSE's ``restPeriod``)
follows any score of at least ``rest_level``: for ``rest_points`` points after it every score is
0, so a break-out that keeps growing point after point (a ramp, a spike that takes a few points
to peak) raises one alert, not one per point.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_VIEWS = 9
_HIGH, _LOW = 6, 7  # the sustained views


@dataclass(frozen=True)
class DetectorConfig:
    warmup: int = 150  # points scored 0 while the envelopes form (NAB's probation is >= 150 rows)
    level_fast: float = 0.1  # EWMA weight of the level the volatility views measure against
    level_slow: float = 0.01
    vol_fast: float = 0.05
    vol_slow: float = 0.02
    season_period: float = 86_400.0  # seconds: one day
    season_slots: int = 48
    season_alpha: float = 0.5  # weight of one day's values in a slot's profile
    season_vol: float = 0.05
    mean_alpha: float = 0.03  # running mean each envelope relaxes towards
    relax: float = 0.0001  # per point, fraction of the envelope that relaxes to that mean
    margin: float = 1.0  # typical steps of a view discounted from a break-out
    step_alpha: float = 0.01  # EWMA weight of each view's typical step |v_t - v_(t-1)|
    min_width: float = 0.05  # envelope width floor, as a fraction of the raw value's envelope
    week_period: float = 604_800.0  # seconds: one week
    week_slots: int = 56  # three-hour slots
    week_alpha: float = 0.5  # weight of one week's values in a slot's weekly profile
    weights: tuple[float, ...] = (2.0, 1.5, 0.0, 0.5, 0.5, 1.0, 1.0, 2.0, 0.5)
    agreement: float = 0.25  # weight of the other views' break-outs added to the largest one
    score_scale: float = 0.03  # raw break-out that maps to score 0.5
    refractory: int = 150  # points for the recent peak to decay to zero
    damping: float = 0.0  # factor for scores inside a refractory period
    rest_level: float = 0.5  # a score at least this high starts a rest period (raw >= score_scale)
    rest_points: int = 20  # points after such a score that all score 0 (0: no rest period)
    peak_slots: int = 96  # time-of-day slots of the recurring-peak memory (0: no memory)
    peak_neighbours: int = 1  # slots either side that count as the same time of day (jitter)
    peak_relax: float = 0.03  # per day, fraction a slot's remembered extreme moves to that day's
    peak_slack: float = 0.5  # typical raw steps a value may exceed the remembered range by
    recurring_views: tuple[int, ...] = (0, 3, 5, 6, 7, 8)  # views whose break-outs it discounts
    recurring_factor: float = 0.0  # factor for those break-outs when the value recurs


DEFAULT_CONFIG = DetectorConfig()
# Frozen by 6-fold cross-validation across the nab-dev files: the median of the folds' optimal
# thresholds for the standard profile (docs/anomaly.md).
# The one global threshold: `detect`, NAB scoring and the live monitor all alert at it.
DEFAULT_THRESHOLD = 0.5084


class StreamingDetector:
    """Per-series state: about 770 numbers (480 in the recurring-peak memory), whatever the series length."""

    __slots__ = (
        "_c",
        "_count",
        "_day_hi",
        "_day_lo",
        "_dt",
        "_hi",
        "_last",
        "_last_time",
        "_lo",
        "_mean",
        "_prev",
        "_profile",
        "_rest_from",
        "_slot_first",
        "_step",
        "_today",
        "_today_hi",
        "_today_lo",
        "_week_first",
        "_week_profile",
        "level_f",
        "level_s",
        "n",
        "peak",
        "resid_vol",
        "vol_f",
        "vol_s",
        "week_vol",
    )

    def __init__(self, config: DetectorConfig = DEFAULT_CONFIG) -> None:
        if len(config.weights) != _VIEWS:
            raise ValueError(f"weights must have {_VIEWS} entries")
        self._c = config
        self.n = 0
        self.level_f = self.level_s = self.vol_f = self.vol_s = self.resid_vol = self.week_vol = 0.0
        self.peak = 0.0
        self._rest_from = -config.rest_points - 1
        self._lo = [0.0] * _VIEWS
        self._hi = [0.0] * _VIEWS
        self._mean = [0.0] * _VIEWS
        self._last = [0.0] * _VIEWS
        self._step = [0.0] * _VIEWS
        self._count = [0] * _VIEWS
        self._profile: list[float | None] = [None] * config.season_slots
        self._slot_first: list[float | None] = [None] * config.season_slots
        self._week_profile: list[float | None] = [None] * config.week_slots
        self._week_first: list[float | None] = [None] * config.week_slots
        self._dt = 0.0
        self._last_time: float | None = None
        self._prev: float | None = None
        # Recurring-peak memory, one entry per slot; NaN until the slot has been seen.
        nan = float("nan")
        self._day_hi = array("d", [nan] * config.peak_slots)  # extremes of earlier days
        self._day_lo = array("d", [nan] * config.peak_slots)
        self._today = array("d", [nan] * config.peak_slots)  # day number of the slot's last visit
        self._today_hi = array("d", [nan] * config.peak_slots)  # extremes of that visit's day
        self._today_lo = array("d", [nan] * config.peak_slots)

    @property
    def config(self) -> DetectorConfig:
        return self._c

    def update(self, value: float, timestamp: float | None = None) -> float:
        """Feed one value (and its unix time, if known); returns its anomaly score in [0, 1).

        A missing value (NaN or inf) scores 0 and leaves the state untouched: a gap in scraping
        must neither raise an alert nor teach the detector anything. Points may arrive at any
        spacing; the time-of-day profile uses the timestamps, the other views count points.
        """
        if value != value or value in (float("inf"), float("-inf")):
            return 0.0
        c = self._c
        if self.n == 0:
            self.level_f = self.level_s = value
        self.n += 1
        # Until 1/alpha points are in, an EWMA is a plain running mean: otherwise the slow views
        # would spend their first hundred points drifting from the first value (false records).
        start = 1.0 / self.n
        self.level_f += max(c.level_fast, start) * (value - self.level_f)
        self.level_s += max(c.level_slow, start) * (value - self.level_s)
        dev = abs(value - self.level_f)
        self.vol_f += max(c.vol_fast, start) * (dev - self.vol_f)
        self.vol_s += max(c.vol_slow, start) * (dev - self.vol_s)

        resid = week = None
        recurring = False
        if timestamp is not None:
            resid = self._seasonal_residual(value, timestamp)
            week = self._weekly_residual_volatility(value, timestamp)
            if c.peak_slots:
                recurring = self._recurs(value, timestamp)

        prev = self._prev
        self._prev = value
        views: tuple[float | None, ...] = (
            value,
            self.level_s,
            self.vol_f,
            self.vol_s,
            resid,
            None if resid is None else self.resid_vol,
            None if prev is None else (value if value < prev else prev),
            None if prev is None else (value if value > prev else prev),
            week,
        )
        raw = 0.0
        total = 0.0
        weights = c.weights
        for j, v in enumerate(views):
            if v is None or weights[j] == 0.0:
                continue  # a view with weight 0 costs nothing
            e = self._break_out(j, v) * weights[j]
            if recurring and j in c.recurring_views:
                e *= c.recurring_factor
            total += e
            if e > raw:
                raw = e
        # Break-outs seen by several views at once are stronger evidence than one view alone.
        raw += c.agreement * (total - raw)
        score = raw / (raw + c.score_scale)
        if self.n <= c.warmup:
            score = 0.0

        peak = self.peak
        out = score if score > peak else score * c.damping
        if self.n - self._rest_from <= c.rest_points:
            out = 0.0
        if score >= c.rest_level:
            self._rest_from = self.n
        decayed = peak - 1.0 / c.refractory
        self.peak = score if score > decayed else (decayed if decayed > 0.0 else 0.0)
        return out

    def _recurs(self, value: float, timestamp: float) -> bool:
        """Whether the same time of day reached this value on an earlier day; then remembers it."""
        c = self._c
        period, slots = c.season_period, c.peak_slots
        day_hi, day_lo, today = self._day_hi, self._day_lo, self._today
        today_hi, today_lo = self._today_hi, self._today_lo
        day = timestamp // period
        slot = int((timestamp % period) / period * slots)
        hi = lo = float("nan")
        for d in range(-c.peak_neighbours, c.peak_neighbours + 1):
            k = (slot + d) % slots
            x = day_hi[k]
            if x == x:  # not NaN: the slot has an earlier day
                if not hi >= x:
                    hi = x
                x = day_lo[k]
                if not lo <= x:
                    lo = x
            # A neighbour's latest visit counts only if it lies on an earlier day than the moment
            # it stands for (just before midnight, slot 0's latest visit was this very day).
            if today[k] < (timestamp + d * period / slots) // period:
                x = today_hi[k]
                if not hi >= x:
                    hi = x
                x = today_lo[k]
                if not lo <= x:
                    lo = x
        if today[slot] != day:
            last_hi, last_lo = today_hi[slot], today_lo[slot]
            old_hi = day_hi[slot]
            if old_hi != old_hi:
                day_hi[slot], day_lo[slot] = last_hi, last_lo
            elif last_hi == last_hi:
                # Old extremes fade towards the latest day's, but a higher (lower) one is kept whole.
                faded_hi = old_hi - c.peak_relax * (old_hi - last_hi)
                faded_lo = day_lo[slot] - c.peak_relax * (day_lo[slot] - last_lo)
                day_hi[slot] = last_hi if last_hi > faded_hi else faded_hi
                day_lo[slot] = last_lo if last_lo < faded_lo else faded_lo
            today[slot] = day
            today_hi[slot] = today_lo[slot] = value
        elif value > today_hi[slot]:
            today_hi[slot] = value
        elif value < today_lo[slot]:
            today_lo[slot] = value
        if hi != hi:
            return False  # no earlier day at this time of day yet
        slack = c.peak_slack * self._step[0]
        return lo - slack <= value <= hi + slack

    def _seasonal_residual(self, value: float, timestamp: float) -> float | None:
        """Value minus its time-of-day profile; None until the slot has a full period of history."""
        c = self._c
        if self._last_time is not None and timestamp > self._last_time:
            dt = timestamp - self._last_time
            self._dt = dt if self._dt == 0.0 else self._dt + 0.05 * (dt - self._dt)
        self._last_time = timestamp
        resid = self._profile_residual(
            self._slot_first, self._profile, value, timestamp, c.season_period, c.season_slots, c.season_alpha
        )
        if resid is None:
            return None
        self.resid_vol += c.season_vol * (abs(resid) - self.resid_vol)
        return resid

    def _weekly_residual_volatility(self, value: float, timestamp: float) -> float | None:
        """EWMA of |value - time-of-week profile|; None until the slot has a full week of history.

        Called after ``_seasonal_residual``, which keeps the sampling interval ``_dt`` current.
        """
        c = self._c
        resid = self._profile_residual(
            self._week_first, self._week_profile, value, timestamp, c.week_period, c.week_slots, c.week_alpha
        )
        if resid is None:
            return None
        self.week_vol += c.season_vol * (abs(resid) - self.week_vol)
        return self.week_vol

    def _profile_residual(
        self,
        firsts: list[float | None],
        profile: list[float | None],
        value: float,
        timestamp: float,
        period: float,
        slots: int,
        alpha_per_period: float,
    ) -> float | None:
        """Value minus its slot's profile, updating the profile; None until the slot has a full period.

        One period moves a slot's profile by `alpha_per_period` whatever the sampling rate: with fine
        sampling a slot is visited many times a period, each visit then weighs less.
        """
        slot = int((timestamp % period) / period * slots)
        first = firsts[slot]
        expected = profile[slot]
        if first is None or expected is None:
            firsts[slot] = timestamp
            profile[slot] = value
            return None
        visits = max(1.0, period / slots / self._dt) if self._dt > 0 else 1.0
        alpha = 1.0 - (1.0 - alpha_per_period) ** (1.0 / visits)
        resid = value - expected
        profile[slot] = expected + alpha * resid
        if timestamp - first < period:
            return None  # the profile has not yet seen this slot in an earlier period
        return resid

    def _break_out(self, j: int, v: float) -> float:
        c = self._c
        k = self._count[j] + 1
        self._count[j] = k
        if k == 1:
            self._lo[j] = self._hi[j] = self._mean[j] = self._last[j] = v
            self._step[j] = 0.0
            return 0.0
        # 1/n at first: an EWMA started at 0 would underestimate the step for ~1/alpha points.
        step = self._step[j]
        rate = 1.0 / (k - 1) if (k - 1) * c.step_alpha < 1.0 else c.step_alpha
        step += rate * (abs(v - self._last[j]) - step)
        self._step[j] = step
        self._last[j] = v
        hi, lo = self._hi[j], self._lo[j]
        width = hi - lo
        # All views are in the value's units. A view that has barely moved (a slow mean of a
        # steady signal) would otherwise call its smallest wiggle a record-breaking event; a flat
        # history altogether (width 0) makes any real move maximally novel.
        floor = c.min_width * (self._hi[0] - self._lo[0]) + 1e-9 * (abs(hi) + 1e-9)
        if width < floor:
            width = floor
        # The sustained views move in smaller steps than the values they are made of: their slack
        # is the raw value's typical step, or plain noise would set records there.
        slack = c.margin * (self._step[0] if j >= _HIGH else step)
        e = 0.0
        if v > hi:
            if j != _LOW:
                e = (v - hi - slack) / width
            hi = v
        elif v < lo:
            if j != _HIGH:
                e = (lo - v - slack) / width
            lo = v
        mean = self._mean[j] + c.mean_alpha * (v - self._mean[j])
        self._mean[j] = mean
        self._hi[j] = hi - c.relax * (hi - mean)
        self._lo[j] = lo - c.relax * (lo - mean)
        return e if e > 0.0 else 0.0

    def score_many(self, values: Iterable[float], timestamps: Iterable[float] | None = None) -> npt.NDArray[np.float64]:
        update = self.update
        vals = np.asarray(values, dtype=np.float64).tolist()
        if timestamps is None:
            return np.fromiter((update(v) for v in vals), dtype=np.float64, count=len(vals))
        times = np.asarray(timestamps, dtype=np.float64).tolist()
        return np.fromiter((update(v, t) for v, t in zip(vals, times, strict=True)), dtype=np.float64, count=len(vals))


def unix_seconds(timestamps: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    return timestamps.astype("datetime64[s]").astype(np.int64).astype(np.float64)


def score_series(
    values: Iterable[float],
    timestamps: Iterable[float] | None = None,
    config: DetectorConfig = DEFAULT_CONFIG,
) -> npt.NDArray[np.float64]:
    """Score a whole series by streaming it point by point (same result as calling ``update``)."""
    return StreamingDetector(config).score_many(values, timestamps)


def default_detector(
    values: npt.NDArray[np.float64], timestamps: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    """The shipped detector with its frozen defaults, in the evaluation harness' calling convention."""
    return score_series(values, timestamps, DEFAULT_CONFIG)
