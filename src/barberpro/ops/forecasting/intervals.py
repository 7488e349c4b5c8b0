"""Empirical prediction intervals for point forecasters: quantiles of their own past errors.

After a fit, the model is backtested at a few dozen origins in its last week of
data; the ratio actual / forecast at each lead gives multiplicative quantiles
(scale-free, like the models). Leads are pooled in a few buckets so that a
24-hour horizon does not need 1,440 separate estimates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self

import numpy as np

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, Forecast

PointForecaster = Callable[[np.ndarray, int], np.ndarray]


class PeriodicPointForecaster(Protocol):
    period: int  # steps per day

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray: ...


class RatioIntervals:
    def __init__(self, buckets: int = 6) -> None:
        self.buckets = buckets
        self._edges: np.ndarray = np.array([1])
        self._ratios: list[np.ndarray] = []
        self._factors: dict[float, np.ndarray] = {}  # per quantile, per bucket: read once per fit

    def fit(self, forecaster: PointForecaster, y: np.ndarray, period: int, horizon: int) -> RatioIntervals:
        n = len(y)
        lookback = min(7 * period, n // 2)
        origins = np.unique(np.linspace(n - lookback, n - horizon, num=48).astype(int))
        origins = origins[origins > 0]
        self._edges = np.unique(np.geomspace(1, max(horizon, 1), num=self.buckets + 1).astype(int))
        per_bucket: list[list[np.ndarray]] = [[] for _ in range(len(self._edges))]
        floor = 0.05 * max(float(np.mean(y[-period:])) if n else 0.0, 1e-9)
        for origin in origins:
            h = min(horizon, n - origin)
            if h < 1:
                continue
            pred = np.maximum(np.asarray(forecaster(y[:origin], h), float), 0.0)
            ratio = (y[origin : origin + h] + floor) / (pred + floor)
            idx = np.searchsorted(self._edges, np.arange(1, h + 1), side="right") - 1
            for b in np.unique(idx):
                per_bucket[b].append(ratio[idx == b])
        pooled = np.concatenate([np.concatenate(p) for p in per_bucket if p]) if origins.size else np.ones(1)
        self._ratios = [np.concatenate(p) if p else pooled for p in per_bucket]
        self._factors = {}
        return self

    def apply(self, mean: np.ndarray, quantiles: tuple[float, ...]) -> dict[float, np.ndarray]:
        h = len(mean)
        if not self._ratios:
            return {q: mean.copy() for q in quantiles}
        idx = np.searchsorted(self._edges, np.arange(1, h + 1), side="right") - 1
        idx = np.clip(idx, 0, len(self._ratios) - 1)
        out: dict[float, np.ndarray] = {}
        for q in quantiles:
            factors = self._factors.get(q)
            if factors is None:
                factors = self._factors[q] = np.array([np.quantile(r, q) for r in self._ratios])
            out[q] = np.maximum(mean * factors[idx], 0.0)
        return out


class PointModelWithIntervals:
    """A daily-periodic point forecaster behind the common model interface, with these intervals.

    Subclasses name the model and build its point forecaster for a sampling step.
    """

    name = ""

    def __init__(self) -> None:
        self.point: PeriodicPointForecaster | None = None
        self.intervals = RatioIntervals()

    def point_forecaster(self, step_minutes: float) -> PeriodicPointForecaster:
        raise NotImplementedError

    def fit(self, y: np.ndarray, step_minutes: float) -> Self:
        self.point = self.point_forecaster(step_minutes)
        self.intervals.fit(self.point, np.asarray(y, float), self.point.period, self.point.period)
        return self

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        if self.point is None:
            raise RuntimeError("fit the model first")
        mean = self.point(np.asarray(history, float), horizon)
        return Forecast(mean, self.intervals.apply(mean, quantiles))
