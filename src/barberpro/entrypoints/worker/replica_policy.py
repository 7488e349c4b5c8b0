"""What the actuators ask of an autoscaling policy, and the adapter onto `barberpro.ops.autoscaling`.

The actuators only need one question answered: given the demand of the recent
past (requests per step) and how many replicas run now, how many should run?
`ReplicaPolicy` is that question. The answer comes from the policies of
`barberpro.ops.autoscaling` (the same objects the simulator replays traces
with), driven once per completed step as their API asks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from barberpro.entrypoints.worker.request_rate import DemandWindow

if TYPE_CHECKING:
    import numpy as np

    from barberpro.ops.autoscaling import Forecaster

# Names an actuator accepts. "static" is left out: it needs a training trace.
POLICY_NAMES = ("auto", "default", "hybrid", "predictive", "hpa")


@runtime_checkable
class ReplicaPolicy(Protocol):
    def desired_replicas(self, demand: DemandWindow, current_replicas: int, ready_replicas: int | None = None) -> int:
        """Replicas wanted now, already clamped to the policy's own bounds."""
        ...


@dataclass(frozen=True)
class LiveScalingSettings:
    """A live workload in the actuator's units (seconds, requests per second)."""

    capacity_per_replica: float  # requests per second one replica serves within the SLO
    step_seconds: float
    cold_start_seconds: float
    min_replicas: int = 1
    max_replicas: int = 10
    # None keeps the library's frozen defaults (HPA target 0.7 alone, 0.8 inside the hybrid;
    # 5-minute scale-down window).
    hpa_target_utilisation: float | None = None
    scale_down_stabilisation_seconds: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError("need 1 <= min_replicas <= max_replicas")
        if self.capacity_per_replica <= 0 or self.step_seconds <= 0 or self.cold_start_seconds < 0:
            raise ValueError("capacity and step must be positive, cold start not negative")


class OpsPolicyAdapter:
    """Feeds a sliding window of live demand to an `ops.autoscaling` policy, step by step.

    Those policies index their state by position in an ever-growing history
    (one call per step), while live windows slide. The adapter keeps its own
    growing history, appends each newly completed step once, and between steps
    repeats its last decision. Every `retain_steps` it starts a fresh policy,
    warmed up on the retained tail, so memory stays bounded on a server that
    runs for months.
    """

    def __init__(
        self,
        name: str,
        settings: LiveScalingSettings,
        retain_steps: int | None = None,
        forecaster: Forecaster | None = None,
    ) -> None:
        import numpy as np

        from barberpro.ops.autoscaling import ScalingContext, default_config
        from barberpro.ops.forecasting import default_forecaster

        if name not in POLICY_NAMES:
            raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICY_NAMES)}")
        self.name = name
        self.settings = settings
        step_minutes = settings.step_seconds / 60.0
        # A point forecaster (history, horizon) -> demand per step. None: the forecaster
        # the policy's defaults were chosen with. This is the one place both actuators
        # (the KEDA scaler, `serve --workers auto`) get it; without one the predictive
        # half would only see the recent level and never scale ahead of the daily ramp.
        self.forecaster = forecaster if forecaster is not None else default_forecaster(step_minutes)
        self.ctx = ScalingContext(
            capacity_per_step=settings.capacity_per_replica * settings.step_seconds,
            cold_start_steps=max(1, math.ceil(settings.cold_start_seconds / settings.step_seconds - 1e-9)),
            step_minutes=step_minutes,
            min_replicas=settings.min_replicas,
            max_replicas=settings.max_replicas,
            violation_target=default_config().violation_target,
        )
        # Eight days: a week of calibration for the predictive policy, plus a day of reference.
        self.retain = retain_steps or max(64, round(8 * 24 * 3600 / settings.step_seconds))
        self._np = np
        self._buffer = np.zeros(min(self.retain, 4096))
        self._length = 0
        self._last_end: float | None = None
        self._decision = settings.min_replicas
        self._policy: Any = None

    def _make(self) -> Any:
        from barberpro.ops.autoscaling import (
            DEFAULT_HPA_TARGET,
            DEFAULT_POLICY,
            HYBRID_HPA_TARGET,
            HpaPolicy,
            HybridPolicy,
            PredictivePolicy,
            make_policy,
        )

        s = self.settings
        name = DEFAULT_POLICY if self.name in ("auto", "default") else self.name
        if s.hpa_target_utilisation is None and s.scale_down_stabilisation_seconds is None:
            return make_policy(name, self.ctx, forecaster=self.forecaster)
        window_minutes = (s.scale_down_stabilisation_seconds or 300.0) / 60.0
        library_target = DEFAULT_HPA_TARGET if name == "hpa" else HYBRID_HPA_TARGET
        hpa = HpaPolicy(
            self.ctx,
            library_target if s.hpa_target_utilisation is None else s.hpa_target_utilisation,
            scale_down_window_minutes=window_minutes,
        )
        if name == "hpa":
            return hpa
        # A stabilisation window given here holds for both halves (the predictive one too).
        predictive = (
            PredictivePolicy(self.ctx, self.forecaster)
            if s.scale_down_stabilisation_seconds is None
            else PredictivePolicy(self.ctx, self.forecaster, scale_down_minutes=window_minutes)
        )
        if name == "predictive":
            return predictive
        if name == "hybrid":
            return HybridPolicy(predictive, hpa)
        return make_policy(name, self.ctx, forecaster=self.forecaster)

    @property
    def library_policy(self) -> Any:
        """The `ops.autoscaling` policy object now driven (None before the first step)."""
        return self._policy

    def _append(self, values: tuple[float, ...]) -> None:
        np = self._np
        if self._length + len(values) > len(self._buffer):
            grown = np.zeros(max(2 * len(self._buffer), self._length + len(values)))
            grown[: self._length] = self._buffer[: self._length]
            self._buffer = grown
        self._buffer[self._length : self._length + len(values)] = values
        self._length += len(values)

    def _history(self) -> np.ndarray:
        return self._buffer[: self._length]

    def _start_policy(self, past: tuple[float, ...]) -> None:
        self._length = 0
        self._append(past)
        self._policy = self._make()
        warm_up = getattr(self._policy, "warm_up", None)
        if warm_up is not None and self._length > 0:
            warm_up(self._history())

    def desired_replicas(self, demand: DemandWindow, current_replicas: int, ready_replicas: int | None = None) -> int:
        from barberpro.ops.autoscaling import ReplicaState

        if not demand.values:
            return self.ctx.clamp(current_replicas)
        if self._last_end is None:
            fresh = demand.values
        else:
            new_steps = round((demand.end - self._last_end) / demand.step_seconds)
            fresh = demand.values[len(demand.values) - min(max(new_steps, 0), len(demand.values)) :]
        if not fresh:
            return self._decision
        self._last_end = demand.end

        if self._policy is None:
            # First sight: everything before the newest step calibrates the policy at once.
            self._start_policy(fresh[:-1])
            fresh = fresh[-1:]
        elif self._length + len(fresh) > 2 * self.retain:
            self._start_policy(tuple(self._history()[-self.retain :].tolist()))
        ready = current_replicas if ready_replicas is None else ready_replicas
        state = ReplicaState(provisioned=max(1, current_replicas), ready=max(0, ready))
        for value in fresh:
            self._append((value,))
            self._decision = int(self._policy.decide(self._history(), state))
            state = ReplicaState(provisioned=self._decision, ready=state.ready)
        return self._decision


def build_policy(
    name: str,
    settings: LiveScalingSettings,
    forecaster: Forecaster | None = None,
) -> ReplicaPolicy:
    """The policy an actuator runs, by name; "auto" is the library's shipped default.

    `forecaster` None: the default forecaster of `barberpro.ops.forecasting`.
    """
    return OpsPolicyAdapter(name, settings, forecaster=forecaster)
