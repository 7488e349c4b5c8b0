"""Autoscaling: policies that turn demand (and a forecast) into a replica count, and a simulator.

Public API (stable; actuators such as the KEDA external scaler and
`barberpro serve --workers auto` build on it)::

    from barberpro.ops.autoscaling import (
        ScalingConfig, load_config, ScalingContext, ReplicaState, Forecaster, make_policy,
    )

    config = load_config(None)                  # defaults.toml, or a TOML file path
    ctx = config.context(step_minutes=1.0)      # per-step units for this demand series
    policy = make_policy("default", ctx, forecaster=my_forecaster)
    policy.warm_up(history)                     # optional: calibrate from past demand at once
    replicas = policy.decide(history, ReplicaState(provisioned=3, ready=3))

- `history` is a 1-D numpy array of demand per finished step (requests per step,
  oldest first; at least one step, more is better: a week lets the predictive
  policy calibrate its headroom). `decide` returns the replica count to provision
  now; replicas added now serve after the cold start, replicas removed stop now.
- A policy object keeps state between calls (HPA stabilisation window, forecast
  calibration): keep one per scaled workload and call it once per step.
- `Forecaster` is any callable `(history, horizon) -> np.ndarray` of point
  forecasts (requests per step). `barberpro.ops.forecasting` provides them; this
  package does not import it (ops modules are independent), so the caller wires
  one in. Without one, the predictive policy falls back to a recent-level forecast.
- Policy names: `static`, `hpa`, `predictive`, `hybrid` (max of predictive and
  HPA), `default` (the shipped choice, see `DEFAULT_POLICY`). The oracle and the
  clairvoyant-rate bound need the future and live in `bounds`.
- `simulate(demand, policy, ctx, start=...)` replays a trace; see `simulator`.
"""

from __future__ import annotations

from barberpro.ops.autoscaling.config import ScalingConfig, default_config, load_config
from barberpro.ops.autoscaling.factory import (
    DEFAULT_HPA_TARGET,
    DEFAULT_POLICY,
    HYBRID_HPA_TARGET,
    POLICY_NAMES,
    make_policy,
)
from barberpro.ops.autoscaling.policies import (
    Forecaster,
    HpaPolicy,
    HybridPolicy,
    Policy,
    PredictivePolicy,
    ReplicaState,
    ScalingContext,
    SchedulePolicy,
    StaticPolicy,
)
from barberpro.ops.autoscaling.simulator import SimulationResult, SimulationSummary, simulate

__all__ = [
    "DEFAULT_HPA_TARGET",
    "DEFAULT_POLICY",
    "HYBRID_HPA_TARGET",
    "POLICY_NAMES",
    "Forecaster",
    "HpaPolicy",
    "HybridPolicy",
    "Policy",
    "PredictivePolicy",
    "ReplicaState",
    "ScalingConfig",
    "ScalingContext",
    "SchedulePolicy",
    "SimulationResult",
    "SimulationSummary",
    "StaticPolicy",
    "default_config",
    "load_config",
    "make_policy",
    "simulate",
]
