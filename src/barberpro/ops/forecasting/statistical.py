"""statsforecast models (MSTL, AutoETS) behind the common interface.

Both are fitted once per refit; between refits they condition on new data
without re-estimating: AutoETS through statsforecast's `forward`, MSTL by
extending its seasonal components and running its trend model forward on the
deseasonalised series (re-decomposing at every origin costs seconds per call
on minute data, too slow for a scaler).

MSTL is fitted on at most the last `max_fit_days` days and keeps the weekly
season only where a week is at most 2,016 steps (5-minute data or coarser):
on minute data the weekly STL pass alone takes minutes per fit.
"""

from __future__ import annotations

import warnings

import numpy as np

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, Forecast, steps_per_day


def _level_quantiles(out: dict[str, np.ndarray], quantiles: tuple[float, ...]) -> dict[float, np.ndarray]:
    """Turn statsforecast's lo-L/hi-L bands into quantiles (L = 80, 95, 98)."""
    result: dict[float, np.ndarray] = {}
    for q in quantiles:
        level = round(abs(1 - 2 * q) * 100)
        key = f"hi-{level}" if q > 0.5 else f"lo-{level}"
        if key in out:
            result[q] = np.maximum(np.asarray(out[key], float), 0.0)
    return result


def _levels(quantiles: tuple[float, ...]) -> list[int]:
    return sorted({round(abs(1 - 2 * q) * 100) for q in quantiles if q != 0.5})


class AutoEtsModel:
    """statsforecast AutoETS; seasonal only where the season is at most 24 steps (ETS's limit)."""

    name = "autoets"

    def __init__(self, max_fit_days: float = 28.0) -> None:
        self.max_fit_days = max_fit_days
        self.model: object | None = None
        self.window = 0

    def fit(self, y: np.ndarray, step_minutes: float) -> AutoEtsModel:
        from statsforecast.models import AutoETS

        period = steps_per_day(step_minutes)
        self.window = round(self.max_fit_days * period)
        season = period if period <= 24 else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model = AutoETS(season_length=season).fit(np.asarray(y[-self.window :], float))
        return self

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        if self.model is None:
            raise RuntimeError("fit the model first")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.model.forward(  # type: ignore[attr-defined]
                y=np.asarray(history[-self.window :], float), h=horizon, level=_levels(quantiles)
            )
        mean = np.maximum(np.asarray(out["mean"], float), 0.0)
        return Forecast(mean, _level_quantiles(out, quantiles))


class MstlModel:
    """statsforecast MSTL (daily and, where affordable, weekly seasons; AutoETS on the trend)."""

    name = "mstl"

    def __init__(self, max_fit_days: float = 14.0) -> None:
        self.max_fit_days = max_fit_days
        self.seasons: list[int] = []
        self.seasonal_tail: np.ndarray = np.zeros(0)
        self.fit_end = 0
        self.trend_model: object | None = None
        self.residual_sd = 0.0

    def fit(self, y: np.ndarray, step_minutes: float) -> MstlModel:
        from statsforecast.models import MSTL, AutoETS

        y = np.asarray(y, float)
        period = steps_per_day(step_minutes)
        window = min(len(y), round(self.max_fit_days * period))
        seasons = [period] if 7 * period > 2016 else [period, 7 * period]
        self.seasons = [s for s in seasons if 2 * s <= window] or [1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = MSTL(season_length=self.seasons, trend_forecaster=AutoETS(model="ZZN")).fit(y[-window:])
        decomposition = model.model_
        seasonal = decomposition[[c for c in decomposition.columns if c.startswith("seasonal")]].sum(axis=1)
        # Keep the last full cycle of the longest season to extend it forward.
        longest = max(self.seasons)
        self.seasonal_tail = np.asarray(seasonal.to_numpy()[-longest:], float)
        self.fit_end = len(y)
        self.trend_model = model.trend_forecaster
        remainder = np.asarray(decomposition["remainder"].to_numpy(), float)
        self.residual_sd = float(np.std(remainder))
        self._fit_window = window
        return self

    def _seasonal(self, steps_after_fit: np.ndarray) -> np.ndarray:
        cycle = len(self.seasonal_tail)
        return np.asarray(self.seasonal_tail[steps_after_fit % cycle], float)

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        if self.trend_model is None:
            raise RuntimeError("fit the model first")
        history = np.asarray(history, float)
        n = len(history)
        start = max(0, n - self._fit_window)
        past_steps = np.arange(start, n) - self.fit_end
        deseasonalised = history[start:] - self._seasonal(past_steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.trend_model.forward(  # type: ignore[attr-defined]
                y=deseasonalised, h=horizon, level=_levels(quantiles)
            )
        season_ahead = self._seasonal(np.arange(n, n + horizon) - self.fit_end)
        mean = np.maximum(np.asarray(out["mean"], float) + season_ahead, 0.0)
        bands = _level_quantiles(out, quantiles)
        qs = {q: np.maximum(b + season_ahead, 0.0) for q, b in bands.items()}
        return Forecast(mean, qs)
