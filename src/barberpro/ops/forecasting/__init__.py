"""Forecasting request load: models behind one interface, and their rolling-origin evaluation.

    from barberpro.ops.forecasting import make_model
    model = make_model("default").fit(history, step_minutes=1.0)
    forecast = model.predict(history, horizon=15)      # .mean and .quantiles[q]

Models: `seasonal_naive_day`, `seasonal_naive_week`, `stacked_profile` (the
default: the daily profile's pieces with weights learned daily from the
workload's own recent errors), `daily_profile` (the default before ADR 0205),
`autoets`, `mstl` (statsforecast), `profile_ets` (mean of `daily_profile` and
`autoets`), `weighted_profile` (profile variants weighted by a backtest on the
last 2 days), `prophet_lstm` (optional extra `[hybrid]`). For the autoscaler,
`default_forecaster(step_minutes)` (the stacked profile) is a plain
`(history, horizon) -> forecast` callable that refits itself once a day.
"""

from __future__ import annotations

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, PROVISIONING_QUANTILE, Forecast, ForecastModel
from barberpro.ops.forecasting.profile import DailyProfileForecaster, DailyProfileModel
from barberpro.ops.forecasting.registry import (
    DEFAULT_MODEL,
    MODELS,
    default_forecaster,
    hybrid_available,
    make_model,
)
from barberpro.ops.forecasting.stacked import StackedProfileForecaster, StackedProfileModel

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_QUANTILES",
    "MODELS",
    "PROVISIONING_QUANTILE",
    "DailyProfileForecaster",
    "DailyProfileModel",
    "Forecast",
    "ForecastModel",
    "StackedProfileForecaster",
    "StackedProfileModel",
    "default_forecaster",
    "hybrid_available",
    "make_model",
]
