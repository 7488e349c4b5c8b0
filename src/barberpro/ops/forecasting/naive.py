"""Seasonal naive baselines: tomorrow (or next week) looks like the same time today (last week)."""

from __future__ import annotations

import numpy as np

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, Forecast, steps_per_day
from barberpro.ops.forecasting.intervals import RatioIntervals


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    n = len(history)
    if n == 0:
        return np.zeros(horizon)
    if n < season:
        return np.full(horizon, float(history[-1]))
    idx = n - season + (np.arange(horizon) % season)
    return np.asarray(history[idx], dtype=float)


class SeasonalNaive:
    def __init__(self, season_days: int = 1) -> None:
        self.season_days = season_days
        self.name = "seasonal_naive_day" if season_days == 1 else f"seasonal_naive_{season_days}d"
        if season_days == 7:
            self.name = "seasonal_naive_week"
        self.season = 1
        self.intervals = RatioIntervals()

    def _point(self, history: np.ndarray, horizon: int) -> np.ndarray:
        return seasonal_naive(history, horizon, self.season)

    def fit(self, y: np.ndarray, step_minutes: float) -> SeasonalNaive:
        period = steps_per_day(step_minutes)
        self.season = self.season_days * period
        self.intervals.fit(self._point, np.asarray(y, float), period, period)
        return self

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        mean = self._point(np.asarray(history, float), horizon)
        return Forecast(mean, self.intervals.apply(mean, quantiles))
