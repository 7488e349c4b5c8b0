"""Empirical prediction intervals for point forecasters: quantiles of their own past errors.

After a fit, the model is backtested at a few dozen origins in its last week of
data; the ratio actual / forecast at each lead gives multiplicative quantiles
(scale-free, like the models). Leads are pooled in a few buckets so that a
24-hour horizon does not need 1,440 separate estimates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PointForecaster = Callable[[np.ndarray, int], np.ndarray]


class RatioIntervals:
    def __init__(self, buckets: int = 6) -> None:
        self.buckets = buckets
        self._edges: np.ndarray = np.array([1])
        self._ratios: list[np.ndarray] = []

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
        return self

    def apply(self, mean: np.ndarray, quantiles: tuple[float, ...]) -> dict[float, np.ndarray]:
        h = len(mean)
        if not self._ratios:
            return {q: mean.copy() for q in quantiles}
        idx = np.searchsorted(self._edges, np.arange(1, h + 1), side="right") - 1
        idx = np.clip(idx, 0, len(self._ratios) - 1)
        out: dict[float, np.ndarray] = {}
        for q in quantiles:
            factors = np.array([np.quantile(r, q) for r in self._ratios])
            out[q] = np.maximum(mean * factors[idx], 0.0)
        return out
