"""The actuators' policy (KEDA scaler, `serve --workers auto`) forecasts with the default forecaster."""

from __future__ import annotations

import numpy as np

from barberpro.entrypoints.worker.replica_policy import LiveScalingSettings, build_policy
from barberpro.entrypoints.worker.request_rate import DemandWindow

STEP_SECONDS = 60.0
DAY = 1440  # one-minute steps


def _daily_block(days: int, until_minute: int) -> list[float]:
    """300 requests a minute, 6,000 from 10:00 to 11:00 every day; `until_minute` of the last day."""
    minute_of_day = np.arange(days * DAY + until_minute) % DAY
    return np.where((minute_of_day >= 600) & (minute_of_day < 660), 6000.0, 300.0).tolist()


def _settings() -> LiveScalingSettings:
    return LiveScalingSettings(
        capacity_per_replica=10.0, step_seconds=STEP_SECONDS, cold_start_seconds=120.0, max_replicas=40
    )


def test_default_actuator_policy_forecasts_the_daily_profile_after_a_day_of_history() -> None:
    demand = _daily_block(days=2, until_minute=598)  # two minutes before the daily busy hour
    adapter = build_policy("auto", _settings())
    adapter.desired_replicas(DemandWindow(STEP_SECONDS, STEP_SECONDS * len(demand), tuple(demand)), 1)

    forecaster = adapter.library_policy.predictive.forecaster  # type: ignore[attr-defined]
    ahead = forecaster(np.asarray(demand), 3)
    # The last 15 minutes were all 300: a recent-level forecast stays there, the daily
    # profile sees the busy hour coming (smoothed over 15 minutes, about half of it at 10:00).
    assert ahead[-1] > 2000.0
    assert ahead[0] < ahead[-1]


def test_a_forecaster_given_to_the_actuator_is_the_one_used() -> None:
    calls: list[int] = []

    def flat(history: np.ndarray, horizon: int) -> np.ndarray:
        calls.append(horizon)
        return np.full(horizon, 42.0)

    adapter = build_policy("predictive", _settings(), forecaster=flat)
    demand = _daily_block(days=1, until_minute=10)
    adapter.desired_replicas(DemandWindow(STEP_SECONDS, STEP_SECONDS * len(demand), tuple(demand)), 1)
    assert calls
