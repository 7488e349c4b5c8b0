"""Scaling policies: given the demand seen so far, how many replicas to provision now.

Every policy works in replica units (demand divided by capacity per replica), so
the same settings hold for a trace of ten requests a minute and for one of a
million. A policy object may keep state between calls (HPA stabilisation, the
predictive policy's calibration), so use one object per scaled workload.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class ScalingContext:
    """The service and trace facts a policy needs, in per-step units."""

    capacity_per_step: float
    cold_start_steps: int
    step_minutes: float
    min_replicas: int = 1
    max_replicas: int = 1000
    violation_target: float = 0.001

    def clamp(self, replicas: float) -> int:
        return int(min(self.max_replicas, max(self.min_replicas, replicas)))

    def replicas_for(self, demand: float) -> int:
        """Fewest replicas that serve `demand` requests in one step."""
        # The small tolerance keeps exact multiples of capacity from rounding up.
        return self.clamp(math.ceil(demand / self.capacity_per_step - 1e-9))

    @property
    def steps_per_day(self) -> int:
        return max(1, round(24 * 60 / self.step_minutes))

    def window_steps(self, minutes: float) -> int:
        """Whole steps covering `minutes` (at least one): the length of a stabilisation window."""
        return max(1, math.ceil(minutes / self.step_minutes - 1e-9))


@dataclass(frozen=True)
class ReplicaState:
    """Replicas now: provisioned ones are paid for, ready ones serve."""

    provisioned: int
    ready: int


@runtime_checkable
class Forecaster(Protocol):
    """Point forecast of demand (requests per step) for the next `horizon` steps after `history`."""

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray: ...


class Policy(Protocol):
    """Decides the provisioned replica count at the start of each step.

    `history` holds the demand of every finished step (requests per step), oldest
    first; the decision is for the step that starts now, index `len(history)`.
    Replicas added now serve from `len(history) + cold_start_steps`; replicas
    removed now stop at once.
    """

    name: str

    def decide(self, history: np.ndarray, state: ReplicaState) -> int: ...


class StaticPolicy:
    """A fixed count: by default enough for the peak of the training demand."""

    def __init__(self, ctx: ScalingContext, replicas: int) -> None:
        self.name = "static"
        self.replicas = ctx.clamp(replicas)

    @classmethod
    def at_peak(cls, ctx: ScalingContext, training: np.ndarray, headroom: float = 1.0) -> StaticPolicy:
        peak = float(np.nanmax(training)) if len(training) else 0.0
        return cls(ctx, ctx.replicas_for(peak * headroom))

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        return self.replicas


class HpaPolicy:
    """The Kubernetes HorizontalPodAutoscaler algorithm, as documented.

    desired = ceil(current * utilisation / target), skipped inside the 10 %
    tolerance; scale-down takes the highest recommendation of the last 5 minutes
    (stabilisation window); scale-up is limited by the default behaviour: per 15 s,
    at most double or add 4 pods, whichever is more. Utilisation is the last
    step's demand over the ready replicas' capacity.
    """

    SYNC_SECONDS = 15.0

    def __init__(
        self,
        ctx: ScalingContext,
        target_utilisation: float = 0.7,
        tolerance: float = 0.1,
        scale_down_window_minutes: float = 5.0,
    ) -> None:
        if not 0 < target_utilisation <= 1.5:
            raise ValueError("target_utilisation must be in (0, 1.5]")
        self.name = "hpa"
        self.ctx = ctx
        self.target = target_utilisation
        self.tolerance = tolerance
        self._recommendations: deque[int] = deque(maxlen=ctx.window_steps(scale_down_window_minutes))

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        ctx = self.ctx
        if len(history) == 0:
            return ctx.clamp(state.provisioned)
        demand = max(0.0, float(history[-1]))
        ready = max(state.ready, 1)
        utilisation = demand / (ready * ctx.capacity_per_step)
        ratio = utilisation / self.target
        # Inside the tolerance band HPA leaves the count alone.
        inside = abs(ratio - 1.0) <= self.tolerance
        raw = state.provisioned if inside else math.ceil(ready * ratio - 1e-9)
        raw = ctx.clamp(raw)
        self._recommendations.append(raw)
        desired = max(self._recommendations) if raw < state.provisioned else raw
        # Default scale-up behaviour: max(100 %, 4 pods) per 15 s period.
        periods = max(1, round(ctx.step_minutes * 60 / self.SYNC_SECONDS))
        limit = state.provisioned
        for _ in range(periods):
            limit = max(limit * 2, limit + 4)
            if limit >= desired:
                break
        return ctx.clamp(min(desired, limit))


def recent_level_forecaster(window: int = 15) -> Forecaster:
    """Fallback forecaster: the mean of the last `window` steps, flat over the horizon."""

    def forecast(history: np.ndarray, horizon: int) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(horizon)
        return np.full(horizon, float(np.mean(history[-window:])))

    return forecast


def tail_quantile(scores: np.ndarray, p: float, support: float = 10.0) -> float:
    """The (1 - p) quantile of `scores`, extrapolated where the sample is too short to show it.

    A quantile is read from the sample only while at least `support` scores lie
    above it (p0 = support / n). Rarer levels are extrapolated with an exponential
    tail: each tenfold drop in probability adds the same increment, the one
    between the (1 - 10 p0) and (1 - p0) quantiles. A week of minute steps
    supports about the 99.9 % quantile; a miss once in ten weeks needs ~99.999 %.
    """
    n = len(scores)
    if n == 0:
        return 0.0
    p0 = max(support / n, p)
    q0 = float(np.quantile(scores, 1.0 - p0, method="higher"))
    if p < p0:
        p1 = min(0.5, 10.0 * p0)
        q1 = float(np.quantile(scores, 1.0 - p1, method="higher"))
        q0 += max(0.0, q0 - q1) * math.log10(p0 / p) / math.log10(p1 / p0)
    return q0


@dataclass(frozen=True)
class PredictiveDecision:
    """What set the predictive policy's last decision (demand in requests per step)."""

    forecast: float
    with_margin: float  # forecast + calibrated margin
    cap: float  # the peak guard's ceiling (inf until calibrated)
    wanted: int  # replicas for min(with_margin, cap)
    held: int  # the decision: the highest `wanted` of the scale-down hold

    @property
    def part(self) -> str:
        """ "hold", "cap" or "forecast+margin": which one set `held`."""
        if self.held > self.wanted:
            return "hold"
        return "cap" if self.cap < self.with_margin else "forecast+margin"


class PredictivePolicy:
    """Provision the forecast's upper quantile for the moment new replicas are ready.

    The forecaster gives a point forecast f. The policy keeps its own record of
    how far real demand y has strayed from past forecasts at the same lead, as
    z = (y - f) / (f^b * ref^(1 - b)), where ref is the mean demand of the day
    before the forecast. b = 1 is purely multiplicative noise, b = 0.5 is
    Poisson-like noise (relatively larger at low demand); either way z does not
    change when the whole trace is scaled, so neither does the policy. It
    provisions f + q * f^b * ref^(1 - b), with q the (1 - p) quantile of z over the
    calibration window (a week), times `headroom_scale` (the knob a Pareto sweep
    turns). p aims at one step over capacity per `tail_weeks` weeks (never more
    than `quantile_share` x the violation target); that level is rarer than a
    week of scores shows, so the quantile is extrapolated (`tail_quantile`).

    Two guards keep one-off events from setting the price of every step:
    provisioning stays below `peak_allowance` x the `peak_rank`-th highest demand
    of the last week (isolated spikes, an outage's restart or a surge's first
    minutes inflate the quantile for a week; the second-highest step ignores a
    single spike; the forecast itself is not capped, so growth and surges pass),
    and scale-down waits `scale_down_minutes` (the highest decision of that
    window holds, as HPA's stabilisation does; scale-up is immediate).
    With too short a record it provisions `fallback_headroom` x f.
    """

    def __init__(
        self,
        ctx: ScalingContext,
        forecaster: Forecaster | None = None,
        *,
        quantile_share: float = 1.0,
        tail_weeks: float = 10.0,
        noise_exponent: float = 0.5,
        calibration_days: float = 7.0,
        calibration_scores: int = 0,
        peak_allowance: float = 1.25,
        peak_rank: int = 2,
        scale_down_minutes: float = 10.0,
        fallback_headroom: float = 2.0,
        headroom_scale: float = 1.0,
        record_days: float = 0.0,
        idle_minutes: float = 0.0,
        tail_support: float = 10.0,
    ) -> None:
        self.name = "predictive"
        self.ctx = ctx
        self.forecaster = forecaster or recent_level_forecaster()
        per_week = 7 * ctx.steps_per_day
        self.tail_p = min(quantile_share * ctx.violation_target, 1.0 / (tail_weeks * per_week))
        self.beta = noise_exponent
        # The peak guard looks at the last `calibration_days`; the calibration record keeps
        # at least `calibration_scores` scores, so coarse steps still show a tail to extrapolate.
        self.peak_window = max(64, round(calibration_days * ctx.steps_per_day))
        self.window = max(self.peak_window, int(calibration_scores))
        self.peak_allowance = peak_allowance
        self.peak_rank = max(1, int(peak_rank))
        # The record guard: the margin never lifts provisioning above the highest step of the
        # last `record_days` (0: off).
        self.record_window = round(record_days * ctx.steps_per_day)
        # After `idle_minutes` of zero demand (an outage; 0: off) the forecaster knows nothing of the
        # restart: forecasts made then, and for as long again after demand returns, are not scored.
        self.idle_steps = ctx.window_steps(idle_minutes) if idle_minutes > 0 else 0
        self._zero_run = 0
        self._since_idle = math.inf
        self.tail_support = tail_support
        self.fallback_headroom = fallback_headroom
        self.headroom_scale = headroom_scale
        self._recent_decisions: deque[int] = deque(maxlen=ctx.window_steps(scale_down_minutes))
        # Forecasts made for future steps: step index -> (forecast, noise scale).
        self._pending: dict[int, tuple[float, float]] = {}
        self._scores: deque[float] = deque(maxlen=self.window)
        self._seen = 0
        self._q = 0.0
        self._dirty = True
        self.last_decision: PredictiveDecision | None = None

    @property
    def lead(self) -> int:
        return self.ctx.cold_start_steps

    def warm_up(self, history: np.ndarray) -> None:
        """Replay the tail of `history` so calibration starts full (e.g. from training data)."""
        start = max(1, len(history) - self.window - self.lead)
        for t in range(start, len(history) + 1):
            self._observe(history[:t])
            self._record_forecast(history[:t])

    def _noise_scale(self, history: np.ndarray, forecast: float) -> float:
        ref = float(np.mean(history[-self.ctx.steps_per_day :])) if len(history) else 0.0
        # A floor in capacity units: below a few percent of a replica, noise is irrelevant.
        floor = 0.05 * self.ctx.capacity_per_step
        f, ref = max(forecast, floor), max(ref, floor)
        return float(f**self.beta * ref ** (1.0 - self.beta))

    def _observe(self, history: np.ndarray) -> None:
        # Score every forecast whose target step has now been seen.
        for step in range(self._seen, len(history)):
            if self.idle_steps:
                if history[step] > 0:
                    if self._zero_run >= self.idle_steps:
                        self._since_idle = 0
                    self._zero_run = 0
                    self._since_idle += 1
                else:
                    self._zero_run += 1
            pending = self._pending.pop(step, None)
            if pending is not None:
                predicted, scale = pending
                self._scores.append((max(0.0, float(history[step])) - predicted) / scale)
                self._dirty = True
        self._seen = len(history)

    def _record_forecast(self, history: np.ndarray) -> np.ndarray:
        path = np.asarray(self.forecaster(history, self.lead + 1), dtype=float)
        path = np.asarray(np.nan_to_num(np.maximum(path, 0.0)), dtype=float)
        target = float(path[-1])
        if not self._after_idle():
            self._pending[len(history) + self.lead] = (target, self._noise_scale(history, target))
        return path

    def _after_idle(self) -> bool:
        return self.idle_steps > 0 and (self._zero_run >= self.idle_steps or self._since_idle <= self.idle_steps)

    def calibrated(self) -> bool:
        return len(self._scores) >= 50

    def quantile_score(self) -> float:
        if self._dirty and self.calibrated():
            scores = np.fromiter(self._scores, float)
            self._q = max(0.0, tail_quantile(scores, self.tail_p, self.tail_support))
            self._dirty = False
        return self._q

    def _with_margin_and_cap(self, history: np.ndarray, forecast: float) -> tuple[float, float]:
        """Forecast plus calibrated margin, and the peak guard's ceiling on it."""
        if not self.calibrated():
            return forecast * self.fallback_headroom * self.headroom_scale, math.inf
        margin = self.quantile_score() * self._noise_scale(history, forecast) * self.headroom_scale
        recent = history[-self.peak_window :]
        peak = 0.0
        if len(recent):
            rank = min(self.peak_rank, len(recent))
            peak = float(np.partition(recent, -rank)[-rank]) * self.peak_allowance * self.headroom_scale
        if self.record_window > 0 and len(history):
            peak = min(peak, float(np.max(history[-self.record_window :])))
        return forecast + margin, max(peak, forecast)

    def upper_demand(self, history: np.ndarray, forecast: float) -> float:
        """The demand to provision for, given the point forecast."""
        return min(self._with_margin_and_cap(history, forecast))

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        self._observe(history)
        path = self._record_forecast(history)
        # Removal is immediate, so cover the whole lead, not only its last step.
        forecast = float(path.max())
        with_margin, cap = self._with_margin_and_cap(history, forecast)
        wanted = self.ctx.replicas_for(min(with_margin, cap))
        self._recent_decisions.append(wanted)
        held = max(self._recent_decisions)
        self.last_decision = PredictiveDecision(forecast, with_margin, cap, wanted, held)
        return held


class HybridPolicy:
    """The larger of the predictive and the reactive (HPA) decisions."""

    def __init__(self, predictive: PredictivePolicy, reactive: HpaPolicy) -> None:
        self.name = "hybrid"
        self.predictive = predictive
        self.reactive = reactive
        self.last_reactive: int | None = None  # the HPA half's last answer

    def warm_up(self, history: np.ndarray) -> None:
        self.predictive.warm_up(history)

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        predicted = self.predictive.decide(history, state)
        self.last_reactive = self.reactive.decide(history, state)
        return max(predicted, self.last_reactive)


class SchedulePolicy:
    """Replays a precomputed schedule (the oracle and the clairvoyant-rate bound)."""

    def __init__(self, name: str, schedule: np.ndarray, offset: int = 0) -> None:
        self.name = name
        self.schedule = np.asarray(schedule, dtype=int)
        self.offset = offset

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        i = min(len(history) - self.offset, len(self.schedule) - 1)
        return int(self.schedule[max(i, 0)])
