"""Rolling-origin evaluation: refit daily on an expanding window, forecast from many origins.

Over the test span (the last `test_days`), the model is refitted at the start
of each day on everything before it. Within the day it forecasts, without
refitting, the next `short_horizon_minutes` from an origin every
`short_origin_minutes` (the scaling horizon), and once the next 24 hours from
the day's start (the capacity-planning horizon). Errors are pooled per horizon.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from barberpro.ops.forecasting import metrics
from barberpro.ops.forecasting.base import PROVISIONING_QUANTILE, ForecastModel, steps_per_day


@dataclass(frozen=True)
class EvaluationSpec:
    test_days: float = 7.0
    short_horizon_minutes: float = 15.0
    short_origin_minutes: float = 60.0
    long_horizon_hours: float = 24.0


@dataclass
class _Pool:
    actual: list[np.ndarray]
    mean: list[np.ndarray]
    quantiles: dict[float, list[np.ndarray]]

    @classmethod
    def empty(cls) -> _Pool:
        return cls([], [], {})

    def add(self, actual: np.ndarray, mean: np.ndarray, quantiles: dict[float, np.ndarray]) -> None:
        self.actual.append(actual)
        self.mean.append(mean[: len(actual)])
        for q, v in quantiles.items():
            self.quantiles.setdefault(q, []).append(v[: len(actual)])


def _scores(pool: _Pool, scale: float) -> dict[str, float]:
    a = np.concatenate(pool.actual)
    m = np.concatenate(pool.mean)
    q = {k: np.concatenate(v) for k, v in pool.quantiles.items()}
    out = {
        "mase": metrics.mase(a, m, scale),
        "wape": metrics.wape(a, m),
        "accuracy_100_minus_wape": 100.0 - metrics.wape(a, m),
        "smape": metrics.smape(a, m),
        "forecasts": len(pool.actual),
    }
    if PROVISIONING_QUANTILE in q:
        out[f"pinball_q{round(PROVISIONING_QUANTILE * 100)}_scaled"] = metrics.pinball(
            a, q[PROVISIONING_QUANTILE], PROVISIONING_QUANTILE, scale
        )
    for level, (lo, hi) in {80: (0.1, 0.9), 95: (0.025, 0.975)}.items():
        if lo in q and hi in q:
            out[f"coverage_{level}"] = metrics.coverage(a, q[lo], q[hi])
    return out


def rolling_origin(
    make: Callable[[], ForecastModel],
    y: np.ndarray,
    step_minutes: float,
    spec: EvaluationSpec | None = None,
    on_day: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    spec = spec or EvaluationSpec()
    y = np.asarray(y, float)
    n = len(y)
    period = steps_per_day(step_minutes)
    test_steps = round(spec.test_days * period)
    test_start = n - test_steps
    if test_start < period:
        raise ValueError("need at least one day of history before the test span")
    scale = metrics.mase_scale(y[:test_start], period)
    h_short = max(1, round(spec.short_horizon_minutes / step_minutes))
    h_long = max(1, round(spec.long_horizon_hours * 60 / step_minutes))
    every = max(1, round(spec.short_origin_minutes / step_minutes))
    short, long = _Pool.empty(), _Pool.empty()
    fit_s = predict_s = 0.0
    days = int(np.ceil(test_steps / period))
    name = ""
    for day in range(days):
        refit = test_start + day * period
        t0 = time.perf_counter()
        model = make().fit(y[:refit], step_minutes)
        fit_s += time.perf_counter() - t0
        name = model.name
        t0 = time.perf_counter()
        for origin in range(refit, min(refit + period, n - h_short + 1), every):
            f = model.predict(y[:origin], h_short)
            short.add(y[origin : origin + h_short], f.mean, f.quantiles)
        if refit + h_long <= n:
            f = model.predict(y[:refit], h_long)
            long.add(y[refit : refit + h_long], f.mean, f.quantiles)
        predict_s += time.perf_counter() - t0
        if on_day is not None:
            on_day(day + 1, days)
    result: dict[str, object] = {
        "model": name,
        "refits": days,
        "fit_seconds": fit_s,
        "predict_seconds": predict_s,
        "fit_predict_seconds": fit_s + predict_s,
        "mase_scale": scale,
        f"h{h_short}_steps": _scores(short, scale),
    }
    if long.actual:
        result[f"h{h_long}_steps"] = _scores(long, scale)
    return result
