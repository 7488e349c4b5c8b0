"""The default forecaster: a robust daily profile, rescaled to the current level.

forecast(t + h) = profile(t + h) x (1 + (level ratio - 1) x damping^h)

- profile: the median, over the same time of day on each of the last 7 days,
  of the demand smoothed over ~15 minutes. The median shrugs off an outage day
  or a one-off spike; the smoothing estimates the rate, not the noise.
- level ratio: demand over the last 30 minutes (at least one step) divided by
  the profile over the same steps (`additive=True`: their difference instead).
  Multiplicative, so the model is scale-free: a 50x surge is a ratio of 50
  half an hour later. (The window was an hour until the validation spans showed
  30 minutes to be as good on minute data and better on 30-minute steps.)
  It fades towards 1 with the horizon (half-life a few hours), because a level shift seen now says less about tomorrow.
- With under a day of history it falls back to the recent level, flat.
No fitting: the settings are frozen constants, the same for every trace.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from barberpro.ops.forecasting.intervals import PointModelWithIntervals


@dataclass(frozen=True)
class ProfileComponents:
    """What a daily-profile forecast is made of, for one origin and horizon."""

    profile: np.ndarray  # the blended profile over the horizon (not negative)
    by_day: np.ndarray  # its daily median part
    same_weekday: np.ndarray  # its same-weekday part (the daily median without a past week)
    last_week: np.ndarray  # the same steps a week earlier, smoothed (the weekday part without one)
    ratio: float  # recent demand over the profile at the same steps (clipped)
    level_gap: float  # recent demand minus the profile at the same steps
    recent_level: float  # mean demand over the level window
    floor: float  # 5 % of the last day's mean demand: the ratio's guard against a zero profile
    recent_week_ago: (
        float  # the week-ago row over the level window (the weekday median where it has none); NaN unless asked for
    )


class DailyProfileForecaster:
    def __init__(
        self,
        step_minutes: float,
        *,
        days: int = 7,
        smooth_minutes: float = 15.0,
        level_minutes: float = 30.0,
        level_half_life_hours: float = 3.0,
        weeks: int = 2,
        weekly_weight: float = 0.5,
        additive: bool = False,
        per_lead_rows: bool = False,
        week_ago_level: bool = False,
    ) -> None:
        self.step_minutes = step_minutes
        self.period = max(1, round(24 * 60 / step_minutes))
        self.days = days
        self.weeks = weeks
        self.weekly_weight = weekly_weight
        self.smooth = max(1, round(smooth_minutes / step_minutes))
        self.level_steps = max(1, round(level_minutes / step_minutes))
        self.damping = 0.5 ** (step_minutes / (60.0 * level_half_life_hours))
        self.additive = additive
        self.per_lead_rows = per_lead_rows
        self.week_ago_level = week_ago_level  # read the week-ago level too (only a measured variant uses it)

    def _rows(self, history: np.ndarray, start: int, stop: int, lags: list[int]) -> list[np.ndarray]:
        """The demand, smoothed, over [start, stop) shifted back by each lag that the history covers."""
        n = len(history)
        width = self.smooth
        half = width // 2
        rows = []
        for lag in lags:
            lo = start - lag - half
            hi = stop - lag - half + width - 1
            if lo < 0 or hi > n:
                continue
            csum = np.concatenate([[0.0], np.cumsum(history[lo:hi])])
            rows.append((csum[width:] - csum[:-width]) / width)
        return rows

    def row_lags(self) -> list[int]:
        """The lags of the past rows the profile reads: each of the last days, then each past week."""
        return [d * self.period for d in range(1, self.days + 1)] + [
            w * 7 * self.period for w in range(1, self.weeks + 1)
        ]

    def lead_segments(self, start: int, stop: int, n: int) -> list[tuple[int, int]]:
        """[start, stop) cut where a past row stops being usable (`per_lead_rows`), else whole.

        A row lagged by L covers step p with a smoothing window ending at
        p - L - half + width; past the history's end n it is not usable. Whole-span
        rows (the first rule) drop a row for every step when it fails for the last
        one: a day-ahead forecast loses yesterday for all of its leads because its
        last few leads' windows would reach past now.
        """
        if not self.per_lead_rows:
            return [(start, stop)]
        half = self.smooth // 2
        cuts = sorted({n + lag + half - self.smooth + 1 for lag in self.row_lags()} | {start, stop})
        cuts = [c for c in cuts if start <= c <= stop]
        return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]

    def profile_parts(
        self, history: np.ndarray, start: int, stop: int
    ) -> tuple[np.ndarray, np.ndarray, float | np.ndarray] | None:
        """Daily median, same-weekday median and the latter's blend weight over [start, stop).

        None without a full day of history; without a past week the weekday median is
        the daily one, with weight 0. With `per_lead_rows` each stretch of steps uses
        the rows usable there (the weight is then one per step).
        """
        segments = self.lead_segments(start, stop, len(history))
        if len(segments) > 1:
            parts = [self._profile_parts_whole(history, a, b) for a, b in segments]
            if any(part is None for part in parts):
                return None
            whole = [part for part in parts if part is not None]
            weights = np.concatenate([np.full(b - a, part[2]) for (a, b), part in zip(segments, whole, strict=True)])
            return (
                np.concatenate([part[0] for part in whole]),
                np.concatenate([part[1] for part in whole]),
                weights,
            )
        return self._profile_parts_whole(history, start, stop)

    def _profile_parts_whole(
        self, history: np.ndarray, start: int, stop: int
    ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """`profile_parts` with the rows usable for every step of [start, stop)."""
        daily = self._rows(history, start, stop, [d * self.period for d in range(1, self.days + 1)])
        if not daily:
            return None
        by_day: np.ndarray = np.median(np.vstack(daily), axis=0)
        weekly = self._rows(history, start, stop, [w * 7 * self.period for w in range(1, self.weeks + 1)])
        if not weekly or self.weekly_weight <= 0:
            return by_day, by_day, 0.0
        # Same weekday in past weeks: weekends and weekdays differ in most traffic.
        # Trusted in proportion to how many weeks back it can look (one week is noisy).
        same_day: np.ndarray = np.median(np.vstack(weekly), axis=0)
        return by_day, same_day, self.weekly_weight * len(weekly) / self.weeks

    def profile(self, history: np.ndarray, start: int, stop: int) -> np.ndarray | None:
        """Profile for steps [start, stop) (relative to history's start); None without a full day."""
        parts = self.profile_parts(history, start, stop)
        if parts is None:
            return None
        return self.blend(*parts)

    @staticmethod
    def blend(by_day: np.ndarray, same_day: np.ndarray, weight: float | np.ndarray) -> np.ndarray:
        """The profile: the daily median, `weight` of the way towards the same-weekday one."""
        if np.ndim(weight) == 0 and weight == 0.0:
            return by_day
        blended: np.ndarray = (1 - weight) * by_day + weight * same_day
        return blended

    def components(self, history: np.ndarray, horizon: int) -> ProfileComponents | None:
        """The pieces the forecast is made of; None with under a day of history (or no data)."""
        n = len(history)
        if n == 0:
            return None
        recent_level = float(np.mean(history[-self.level_steps :]))
        future_parts = self.profile_parts(history, n, n + horizon)
        past_parts = self.profile_parts(history, n - min(n, self.level_steps), n)
        if future_parts is None or past_parts is None:
            return None
        past = self.blend(*past_parts)
        by_day, same_day, weight = future_parts
        week_ago = self._week_ago(history, n, n + horizon)
        future = self.blend(by_day, same_day, weight)
        # Guard against a zero profile (an outage a day ago): compare with a floor
        # proportional to the typical level, so the ratio stays finite and scale-free.
        floor = 0.05 * max(float(np.mean(history[-self.period :])), 1e-9)
        ratio = (recent_level + floor) / (float(np.mean(past)) + floor)
        return ProfileComponents(
            profile=np.maximum(future, 0.0),
            by_day=by_day,
            same_weekday=same_day,
            last_week=np.where(np.isnan(week_ago), same_day, week_ago),
            ratio=min(max(ratio, 1e-3), 1e3),
            level_gap=recent_level - float(np.mean(past)),
            recent_level=recent_level,
            floor=floor,
            recent_week_ago=self._recent_week_ago(history, past_parts[1]) if self.week_ago_level else math.nan,
        )

    def _recent_week_ago(self, history: np.ndarray, past_same_weekday: np.ndarray) -> float:
        """Mean of the week-ago row over the level window, the weekday median where that row is missing."""
        n = len(history)
        row = self._week_ago(history, n - min(n, self.level_steps), n)
        return float(np.mean(np.where(np.isnan(row), past_same_weekday, row)))

    def _week_ago(self, history: np.ndarray, start: int, stop: int) -> np.ndarray:
        """The smoothed demand a week before each step of [start, stop); NaN where that row is not usable."""
        out = []
        for a, b in self.lead_segments(start, stop, len(history)):
            row = self._rows(history, a, b, [7 * self.period])
            out.append(row[0] if row else np.full(b - a, np.nan))
        return np.concatenate(out) if out else np.zeros(0)

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        history = np.asarray(history, dtype=float)
        parts = self.components(history, horizon)
        if parts is None:
            level = float(np.mean(history[-self.level_steps :])) if len(history) else 0.0
            return np.full(horizon, level)
        decay = self.damping ** np.arange(1, horizon + 1)
        if self.additive:
            # The level gap in requests, not as a ratio: a quiet hour's small base does not amplify it.
            forecast: np.ndarray = np.maximum(parts.profile + parts.level_gap * decay, 0.0)
        else:
            forecast = parts.profile * (1.0 + (parts.ratio - 1.0) * decay)
        if not math.isfinite(float(forecast.sum())):
            return np.full(horizon, parts.recent_level)
        return forecast


class DailyProfileModel(PointModelWithIntervals):
    """`DailyProfileForecaster` behind the common model interface, with empirical intervals."""

    name = "daily_profile"

    def point_forecaster(self, step_minutes: float) -> DailyProfileForecaster:
        return DailyProfileForecaster(step_minutes)
