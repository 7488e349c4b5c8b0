"""Reference schedules that see the future: the yardsticks for every causal policy.

- Oracle: exactly enough replicas, ordered a cold start ahead so they are ready
  when needed; the lower bound on cost at zero violations.
- Clairvoyant-rate bound: knows the true underlying rate (a centred 15-minute
  moving average of the demand) but not the step-to-step noise; provisions
  rate x (1 + h) a cold start ahead, with the smallest headroom h that meets the
  violation target. A causal forecaster cannot do much better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from barberpro.ops.autoscaling.policies import ScalingContext, SchedulePolicy
from barberpro.ops.autoscaling.simulator import SimulationResult, simulate


def _lead_schedule(need: np.ndarray, cold_start_steps: int) -> np.ndarray:
    """Provisioned count so that `need[s]` replicas are ready at every s: max of need over [t, t + c]."""
    n = len(need)
    out = need.copy()
    for k in range(1, cold_start_steps + 1):
        shifted = np.concatenate([need[k:], np.repeat(need[-1:], min(k, n))])[:n]
        out = np.maximum(out, shifted)
    return out


def replicas_needed(demand: np.ndarray, ctx: ScalingContext) -> np.ndarray:
    need = np.ceil(np.asarray(demand, dtype=float) / ctx.capacity_per_step - 1e-9)
    return np.clip(need, ctx.min_replicas, ctx.max_replicas).astype(int)


def oracle_policy(test_demand: np.ndarray, ctx: ScalingContext, offset: int) -> SchedulePolicy:
    """Perfect foresight over `test_demand`, which starts at step `offset` of the trace."""
    schedule = _lead_schedule(replicas_needed(test_demand, ctx), ctx.cold_start_steps)
    return SchedulePolicy("oracle", schedule, offset)


def centred_rate(demand: np.ndarray, step_minutes: float, window_minutes: float = 15.0) -> np.ndarray:
    """Centred moving average over `window_minutes` (at least one step; shrinks at the edges)."""
    width = max(1, round(window_minutes / step_minutes))
    half = width // 2
    values = np.asarray(demand, dtype=float)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(len(values))
    lo = np.clip(idx - half, 0, len(values))
    hi = np.clip(idx - half + width, 0, len(values))
    rate: np.ndarray = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return rate


def clairvoyant_policy(test_demand: np.ndarray, ctx: ScalingContext, offset: int, headroom: float) -> SchedulePolicy:
    rate = centred_rate(test_demand, ctx.step_minutes)
    need = replicas_needed(rate * (1.0 + headroom), ctx)
    schedule = _lead_schedule(need, ctx.cold_start_steps)
    return SchedulePolicy(f"clairvoyant_rate(h={headroom:.3f})", schedule, offset)


@dataclass(frozen=True)
class ClairvoyantBound:
    headroom: float
    result: SimulationResult


def clairvoyant_bound(demand: np.ndarray, ctx: ScalingContext, start: int, violation_share: float) -> ClairvoyantBound:
    """Smallest headroom h (to 0.5 % by bisection) whose clairvoyant-rate run meets `violation_share`."""
    test = np.asarray(demand[start:], dtype=float)

    def run(h: float) -> SimulationResult:
        return simulate(demand, clairvoyant_policy(test, ctx, start, h), ctx, start=start)

    lo, hi = 0.0, 1.0
    best = run(hi)
    while best.summary.share_steps_over_capacity > violation_share and hi < 64:
        lo, hi = hi, hi * 2
        best = run(hi)
    low_run = run(lo)
    if low_run.summary.share_steps_over_capacity <= violation_share:
        return ClairvoyantBound(lo, low_run)
    while hi - lo > 0.005:
        mid = (lo + hi) / 2
        r = run(mid)
        if r.summary.share_steps_over_capacity <= violation_share:
            hi, best = mid, r
        else:
            lo = mid
    return ClairvoyantBound(hi, best)
