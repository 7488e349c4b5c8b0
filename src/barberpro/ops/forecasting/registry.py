"""Forecasting models by name. The default is the one the autoscaler uses."""

from __future__ import annotations

from collections.abc import Callable

from barberpro.ops.forecasting.base import ForecastModel
from barberpro.ops.forecasting.ensemble import ProfileEtsEnsemble
from barberpro.ops.forecasting.naive import SeasonalNaive
from barberpro.ops.forecasting.profile import DailyProfileModel
from barberpro.ops.forecasting.select import BacktestWeightedModel
from barberpro.ops.forecasting.stacked import (
    StackedProfileForecaster,
    StackedProfileGapModel,
    StackedProfileLeadRowsModel,
    StackedProfileModel,
    StackedProfileWeeklyRatioModel,
)
from barberpro.ops.forecasting.statistical import AutoEtsModel, MstlModel

DEFAULT_MODEL = "stacked_profile"


def default_forecaster(step_minutes: float) -> StackedProfileForecaster:
    """The point forecaster the autoscaler's predictive policy uses: `(history, horizon) -> forecast`.

    It refits its weights itself once per day of history, so a caller needs no fit.
    """
    return StackedProfileForecaster(step_minutes)


def _hybrid() -> ForecastModel:
    from barberpro.ops.forecasting.hybrid import ProphetLstmModel

    return ProphetLstmModel()


MODELS: dict[str, Callable[[], ForecastModel]] = {
    "seasonal_naive_day": lambda: SeasonalNaive(1),
    "seasonal_naive_week": lambda: SeasonalNaive(7),
    "daily_profile": DailyProfileModel,
    "autoets": AutoEtsModel,
    "mstl": MstlModel,
    "profile_ets": ProfileEtsEnsemble,
    "weighted_profile": BacktestWeightedModel,
    "stacked_profile": StackedProfileModel,
    "stacked_profile_gap": StackedProfileGapModel,
    "stacked_profile_lead_rows": StackedProfileLeadRowsModel,
    "stacked_profile_weekly_ratio": StackedProfileWeeklyRatioModel,
    "prophet_lstm": _hybrid,
}


def hybrid_available() -> bool:
    """True when the optional `[hybrid]` extra (prophet, torch) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("prophet", "torch"))


def make_model(name: str) -> ForecastModel:
    if name == "default":
        name = DEFAULT_MODEL
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
