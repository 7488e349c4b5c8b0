"""One interface for every forecasting model: fit on history, predict the next H steps with quantiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# Quantiles every model returns: the 80 % and 95 % intervals and the provisioning quantile.
PROVISIONING_QUANTILE = 0.99
DEFAULT_QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.9, 0.975, PROVISIONING_QUANTILE)


@dataclass(frozen=True)
class Forecast:
    """Point forecast (requests per step) and quantiles, each an array of length horizon."""

    mean: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return len(self.mean)


class ForecastModel(Protocol):
    """Refit with `fit` (e.g. daily), then `predict` from any later origin.

    `predict(history, ...)` takes the whole series up to the origin; the data the
    model was fitted on is a prefix of it. Between refits the model keeps its
    parameters but conditions on the newest data.
    """

    name: str

    def fit(self, y: np.ndarray, step_minutes: float) -> ForecastModel: ...

    def predict(
        self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    ) -> Forecast: ...


def steps_per_day(step_minutes: float) -> int:
    return max(1, round(24 * 60 / step_minutes))
