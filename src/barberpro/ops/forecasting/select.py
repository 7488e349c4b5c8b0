"""Causal model weighting: cheap forecasters weighted by their errors on the last days.

Once per day (and per horizon asked for) every candidate is backtested on the
most recent `backtest_days` of the history only: from `origins` evenly spaced
origins it forecasts the next `horizon` steps, and its error is the mean
absolute error over them. The forecast is the candidates' forecasts weighted
by error^-`power` (power 2: inverse squared error; a large power approaches
picking the best). Nothing is fitted on the future and the settings are the
same for every trace; the weights follow the workload as it changes (a taxi
trace where the weekly profile wins, a web log where the recent level does).
"""

from __future__ import annotations

import numpy as np

from barberpro.ops.forecasting.intervals import PointForecaster, PointModelWithIntervals
from barberpro.ops.forecasting.profile import DailyProfileForecaster


def default_candidates(step_minutes: float) -> dict[str, PointForecaster]:
    """The cheap, fit-free candidates: the daily profile in three variants."""
    return {
        "profile": DailyProfileForecaster(step_minutes),
        "profile_weekly": DailyProfileForecaster(step_minutes, weekly_weight=1.0),
        "profile_additive": DailyProfileForecaster(step_minutes, additive=True),
    }


class BacktestWeightedForecaster:
    """A `(history, horizon) -> forecast` callable: candidates weighted by their recent backtest errors."""

    def __init__(
        self,
        step_minutes: float,
        candidates: dict[str, PointForecaster] | None = None,
        *,
        backtest_days: float = 2.0,
        origins: int = 96,
        power: float = 2.0,
    ) -> None:
        self.step_minutes = step_minutes
        self.period = max(1, round(24 * 60 / step_minutes))
        self.candidates = candidates if candidates is not None else default_candidates(step_minutes)
        self.names = list(self.candidates)
        self.backtest_steps = max(1, round(backtest_days * self.period))
        self.origins = origins
        self.power = power
        self._weights: dict[tuple[int, int], np.ndarray] = {}

    def errors(self, history: np.ndarray, horizon: int) -> np.ndarray | None:
        """Mean absolute error of each candidate over the backtest window; None when too short."""
        n = len(history)
        first = n - self.backtest_steps - horizon
        if first < self.period:
            return None
        origins = np.unique(np.linspace(first, n - horizon, num=self.origins).astype(int))
        errors = np.zeros(len(self.names))
        for i, name in enumerate(self.names):
            model = self.candidates[name]
            total = 0.0
            for origin in origins:
                pred = np.asarray(model(history[:origin], horizon), float)
                total += float(np.sum(np.abs(history[origin : origin + horizon] - pred)))
            errors[i] = total / (len(origins) * horizon)
        return errors

    def weights(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Candidate weights, recomputed once per day of history (and per horizon)."""
        key = (len(history) // self.period, horizon)
        cached = self._weights.get(key)
        if cached is not None:
            return cached
        errors = self.errors(history, horizon)
        if errors is None:
            w = np.zeros(len(self.names))
            w[0] = 1.0
        else:
            # A floor proportional to the level keeps a perfect candidate from dividing by zero.
            floor = 1e-6 * max(float(np.mean(np.abs(history[-self.period :]))), 1e-12)
            raw = (errors + floor) ** -self.power
            w = raw / raw.sum()
        if len(self._weights) > 64:
            self._weights.clear()
        self._weights[key] = w
        return w

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        history = np.asarray(history, dtype=float)
        w = self.weights(history, horizon)
        forecast = np.zeros(horizon)
        for weight, name in zip(w, self.names, strict=True):
            if weight > 1e-3:
                forecast += weight * np.asarray(self.candidates[name](history, horizon), float)
        total = float(w[w > 1e-3].sum())
        return np.asarray(np.maximum(forecast / total, 0.0), float)


class BacktestWeightedModel(PointModelWithIntervals):
    """`BacktestWeightedForecaster` behind the common model interface, with empirical intervals."""

    name = "weighted_profile"

    def point_forecaster(self, step_minutes: float) -> BacktestWeightedForecaster:
        return BacktestWeightedForecaster(step_minutes)
