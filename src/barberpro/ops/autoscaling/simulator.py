"""Replay a demand trace against a policy: replicas over time, cost and SLO misses.

Timing: at the start of step t the policy sees demand up to t - 1 and sets the
provisioned count. Replicas added at t serve from t + cold_start_steps; removed
replicas (the youngest first) stop at once. Step t is over capacity when its
demand exceeds ready replicas x capacity per step.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from barberpro.ops.autoscaling.policies import Policy, ReplicaState, ScalingContext


@dataclass(frozen=True)
class SimulationSummary:
    policy: str
    steps: int
    step_minutes: float
    replica_hours: float
    steps_over_capacity: int
    share_steps_over_capacity: float
    minutes_over_capacity: float
    requests_over_capacity: float
    share_requests_over_capacity: float
    scale_actions: int
    peak_replicas: int
    mean_replicas: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass(frozen=True)
class SimulationResult:
    demand: np.ndarray
    provisioned: np.ndarray
    ready: np.ndarray
    capacity_per_step: float
    summary: SimulationSummary


def summarise(
    policy: str,
    demand: np.ndarray,
    provisioned: np.ndarray,
    ready: np.ndarray,
    capacity_per_step: float,
    step_minutes: float,
) -> SimulationSummary:
    """The figures, from the per-step rows alone (so anyone can recompute them)."""
    demand = np.asarray(demand, dtype=float)
    served = np.asarray(ready, dtype=float) * capacity_per_step
    over = demand > served + 1e-9
    excess = np.clip(demand - served, 0.0, None)
    steps = len(demand)
    changes = int(np.count_nonzero(np.diff(np.asarray(provisioned))))
    total = float(demand.sum())
    return SimulationSummary(
        policy=policy,
        steps=steps,
        step_minutes=step_minutes,
        replica_hours=float(np.sum(provisioned)) * step_minutes / 60.0,
        steps_over_capacity=int(over.sum()),
        share_steps_over_capacity=float(over.mean()) if steps else 0.0,
        minutes_over_capacity=float(over.sum()) * step_minutes,
        requests_over_capacity=float(excess.sum()),
        share_requests_over_capacity=float(excess.sum() / total) if total > 0 else 0.0,
        scale_actions=changes,
        peak_replicas=int(np.max(provisioned)) if steps else 0,
        mean_replicas=float(np.mean(provisioned)) if steps else 0.0,
    )


def simulate(
    demand: np.ndarray,
    policy: Policy,
    ctx: ScalingContext,
    start: int = 0,
    initial_replicas: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate steps `start..len(demand)-1`; earlier steps are history only.

    The run begins with `initial_replicas` ready (default: the policy's first
    decision), as a service that has been running, not one starting cold.
    `on_progress(done, total)` is called every 500 steps.
    """
    demand = np.asarray(demand, dtype=float)
    n = len(demand) - start
    provisioned = np.zeros(n, dtype=int)
    ready = np.zeros(n, dtype=int)
    # Each live replica is the step from which it serves; appended in that order, youngest last.
    replicas: list[int] = []
    first = True
    for i in range(n):
        t = start + i
        history = demand[:t]
        current = len(replicas)
        n_ready = bisect_right(replicas, t)
        desired = ctx.clamp(policy.decide(history, ReplicaState(current, n_ready)))
        if first:
            warm = desired if initial_replicas is None else ctx.clamp(initial_replicas)
            replicas.extend([t] * warm)
            first = False
            current = warm
        if desired > current:
            replicas.extend([t + ctx.cold_start_steps] * (desired - current))
        else:
            for _ in range(current - desired):
                replicas.pop()
        provisioned[i] = len(replicas)
        ready[i] = bisect_right(replicas, t)
        if on_progress is not None and (i % 500 == 0 or i == n - 1):
            on_progress(i + 1, n)
    summary = summarise(policy.name, demand[start:], provisioned, ready, ctx.capacity_per_step, ctx.step_minutes)
    return SimulationResult(demand[start:], provisioned, ready, ctx.capacity_per_step, summary)
