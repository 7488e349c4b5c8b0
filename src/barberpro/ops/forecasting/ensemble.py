"""An equal-weight ensemble of the daily profile and AutoETS.

The two err differently: the profile knows the time of day but reacts to the
last half hour only through a slow level ratio; AutoETS follows the last few steps
but (on minute data) knows no season. Their mean is measured beside both in
benchmarks.md; it is not the default (it does not beat every model on every
trace, see docs/forecasting.md). Quantiles are the members' quantiles averaged
(a convex mix of their intervals, not the intervals of the mean).
"""

from __future__ import annotations

import numpy as np

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, Forecast
from barberpro.ops.forecasting.profile import DailyProfileModel
from barberpro.ops.forecasting.statistical import AutoEtsModel


class ProfileEtsEnsemble:
    name = "profile_ets"

    def __init__(self) -> None:
        self.members: tuple[DailyProfileModel, AutoEtsModel] = (DailyProfileModel(), AutoEtsModel())

    def fit(self, y: np.ndarray, step_minutes: float) -> ProfileEtsEnsemble:
        for member in self.members:
            member.fit(y, step_minutes)
        return self

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        forecasts = [m.predict(history, horizon, quantiles) for m in self.members]
        mean = np.mean([f.mean for f in forecasts], axis=0)
        mixed = {q: np.mean([f.quantiles.get(q, f.mean) for f in forecasts], axis=0) for q in quantiles}
        return Forecast(np.asarray(mean, float), {q: np.asarray(v, float) for q, v in mixed.items()})
