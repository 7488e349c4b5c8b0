"""Policies: HPA as documented, the predictive policy's headroom, scale invariance, surges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.autoscaling import (
    HpaPolicy,
    PredictivePolicy,
    ReplicaState,
    ScalingContext,
    make_policy,
    simulate,
)
from barberpro.ops.autoscaling.policies import tail_quantile


def ctx(cap: float = 10.0, step: float = 1.0, cold: int = 2) -> ScalingContext:
    return ScalingContext(capacity_per_step=cap, cold_start_steps=cold, step_minutes=step)


def test_hpa_scales_by_the_ratio_to_target() -> None:
    hpa = HpaPolicy(ctx(), target_utilisation=0.5)
    # 4 ready replicas at 100 % utilisation: double them.
    assert hpa.decide(np.array([40.0]), ReplicaState(4, 4)) == 8


def test_hpa_ignores_changes_inside_the_tolerance() -> None:
    hpa = HpaPolicy(ctx(), target_utilisation=0.5)
    assert hpa.decide(np.array([21.0]), ReplicaState(4, 4)) == 4  # utilisation 0.525, ratio 1.05


def test_hpa_scale_down_waits_for_the_stabilisation_window() -> None:
    hpa = HpaPolicy(ctx(), target_utilisation=0.5)
    decisions = []
    state = ReplicaState(8, 8)
    for demand in [40.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]:
        n = hpa.decide(np.array([demand]), state)
        decisions.append(n)
        state = ReplicaState(n, n)
    # The 8 recommended at the first step holds for the 5-minute window, then it drops.
    assert decisions[:5] == [8, 8, 8, 8, 8]
    assert decisions[-1] < 8


def test_hpa_scale_up_is_limited_per_sync_period() -> None:
    # 30-second steps: two 15-second periods, each at most double or +4.
    hpa = HpaPolicy(ScalingContext(10.0, 1, 0.5, max_replicas=1000), target_utilisation=0.5)
    # Wants 2,000; per period at most max(double, +4): 1 -> 5 -> 10.
    assert hpa.decide(np.array([10_000.0]), ReplicaState(1, 1)) == 10


def poisson_trace(days: int, step: float = 5.0, seed: int = 0, level: float = 200.0) -> np.ndarray:
    per_day = round(1440 / step)
    t = np.arange(days * per_day)
    rate = level * (1.2 + np.sin(2 * np.pi * t / per_day))
    return np.random.default_rng(seed).poisson(rate).astype(float)


def run(name: str, demand: np.ndarray, c: ScalingContext, start: int, knob: float | None = None):
    policy = make_policy(name, c, training=demand[:start], knob=knob)
    policy.warm_up(demand[:start])
    return simulate(demand, policy, c, start=start)


@settings(max_examples=10, deadline=None)
@given(st.integers(-10, 10))
def test_predictive_policy_is_scale_free(power: int) -> None:
    demand = poisson_trace(3, seed=3)
    k = 2.0**power  # exact in floating point, so decisions must match exactly
    base = run("hybrid", demand, ctx(cap=40.0, step=5.0, cold=1), 600)
    scaled = run("hybrid", demand * k, ctx(cap=40.0 * k, step=5.0, cold=1), 600)
    assert np.array_equal(base.provisioned, scaled.provisioned)


def test_default_policy_meets_the_violation_target_cheaper_than_static_and_hpa() -> None:
    demand = poisson_trace(10, seed=5)
    c = ScalingContext(capacity_per_step=40.0, cold_start_steps=1, step_minutes=5.0, violation_target=0.005)
    start = len(demand) - 2 * 288
    default = run("default", demand, c, start).summary
    static = run("static", demand, c, start).summary
    hpa = run("hpa", demand, c, start, knob=0.5).summary
    assert default.share_steps_over_capacity <= 0.005
    assert default.replica_hours < 0.8 * static.replica_hours
    assert default.replica_hours < hpa.replica_hours


def test_hybrid_recovers_from_a_fifty_fold_surge() -> None:
    demand = poisson_trace(9, seed=7)
    surge_at = len(demand) - 288
    demand[surge_at:] *= 50
    c = ScalingContext(capacity_per_step=40.0, cold_start_steps=1, step_minutes=5.0)
    result = run("default", demand, c, len(demand) - 2 * 288)
    over = result.demand > result.ready * c.capacity_per_step
    after = over[288:]  # the surge day
    assert after[:12].any()  # nobody foresees a surge
    assert after[24:].mean() < 0.01  # within two hours it serves the new level
    assert result.provisioned[-1] > 20 * result.provisioned[0] / 2


def test_policies_cope_with_no_history_and_with_zeros() -> None:
    c = ctx()
    for name in ("predictive", "hybrid", "hpa"):
        policy = make_policy(name, c)
        assert policy.decide(np.zeros(0), ReplicaState(1, 1)) >= 1
        assert policy.decide(np.zeros(500), ReplicaState(1, 1)) == 1
    with pytest.raises(ValueError):
        make_policy("static", c)
    with pytest.raises(ValueError):
        make_policy("nope", c)


def test_predictive_headroom_grows_with_noise() -> None:
    c = ctx(cap=10.0, step=5.0, cold=1)
    quiet, noisy = PredictivePolicy(c), PredictivePolicy(c)
    rng = np.random.default_rng(0)
    quiet.warm_up(np.full(2000, 100.0) + rng.normal(0, 1, 2000))
    noisy.warm_up(np.full(2000, 100.0) + rng.normal(0, 30, 2000))
    assert noisy.quantile_score() > 5 * quiet.quantile_score()


def test_tail_quantile_reads_the_sample_where_it_can_and_extrapolates_beyond() -> None:
    rng = np.random.default_rng(1)
    scores = rng.exponential(1.0, 20_000)
    # Supported by the sample (200 scores above it): the plain empirical quantile.
    assert tail_quantile(scores, 0.01) == pytest.approx(np.quantile(scores, 0.99, method="higher"))
    # Far rarer than the sample shows: an exponential tail's true quantile is -ln(p).
    for p in (1e-5, 1e-6):
        assert tail_quantile(scores, p) == pytest.approx(-np.log(p), rel=0.1)
    assert tail_quantile(scores, 1e-6) > scores.max()
    # A single huge score does not move the extrapolation (ten scores must lie above it).
    spiked = np.append(scores, 1e6)
    assert tail_quantile(spiked, 1e-6) == pytest.approx(tail_quantile(scores, 1e-6), rel=0.02)


def test_predictive_scale_down_waits_but_scale_up_does_not() -> None:
    c = ctx(cap=10.0, step=1.0, cold=1)
    policy = PredictivePolicy(c, lambda h, n: np.full(n, float(h[-1])), scale_down_minutes=5.0)
    state = ReplicaState(1, 1)
    decisions = []
    for demand in [10.0, 10.0, 100.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]:
        history = np.full(1, demand)
        decisions.append(policy.decide(history, state))
    assert decisions[2] >= 10  # up at once
    assert decisions[2:7] == [decisions[2]] * 5  # held for the 5-minute window
    assert decisions[7] < decisions[2]


def test_predictive_margin_stays_within_the_peak_allowance() -> None:
    c = ctx(cap=10.0, step=5.0, cold=1)
    history = np.full(2016, 100.0)
    history[::60] = 300.0  # recurring bursts make the calibrated margin wide
    history[1000] = 1000.0  # and one spike, far above anything else
    policy = PredictivePolicy(c, lambda h, n: np.full(n, 100.0))
    policy.warm_up(history)
    # Uncapped, the margin would provision above 1.25 x the bursts...
    assert 100.0 + policy.quantile_score() * 100.0 > 1.25 * 300.0
    # ...so the cap holds: 1.25 x the week's second-highest step (the lone spike is ignored).
    assert policy.upper_demand(history, 100.0) == pytest.approx(1.25 * 300.0)
    # A forecast above the cap passes (growth, surges).
    assert policy.upper_demand(history, 5000.0) >= 5000.0


def test_the_optional_record_guard_caps_the_margin_at_the_highest_step_seen() -> None:
    c = ctx(cap=10.0, step=5.0, cold=1)
    history = np.full(2016, 100.0)
    history[::60] = 300.0
    policy = PredictivePolicy(c, lambda h, n: np.full(n, 100.0), record_days=28)
    policy.warm_up(history)
    # The week's guard alone would allow 1.25 x 300; the record guard stops at the record itself.
    assert policy.upper_demand(history, 100.0) == pytest.approx(300.0)
    # The forecast is never capped.
    assert policy.upper_demand(history, 450.0) >= 450.0
    # Off by default.
    default = PredictivePolicy(c, lambda h, n: np.full(n, 100.0))
    default.warm_up(history)
    assert default.upper_demand(history, 100.0) == pytest.approx(375.0)


def test_the_optional_idle_rule_leaves_an_outage_restart_out_of_calibration() -> None:
    c = ctx(cap=10.0, step=1.0, cold=1)
    history = np.full(3000, 100.0)
    history[1000:1200] = 0.0  # a 200-minute outage, then demand returns at once
    level = lambda h, n: np.full(n, float(np.mean(h[-30:])) if len(h) else 0.0)  # noqa: E731
    skipping = PredictivePolicy(c, level, idle_minutes=60)
    scoring = PredictivePolicy(c, level)
    for policy in (skipping, scoring):
        policy.warm_up(history[:1300])
    # The restart's forecasts (near zero while demand is back at 100) set the quantile unless skipped.
    assert scoring.quantile_score() > 10 * max(skipping.quantile_score(), 1e-3)


def test_calibration_can_keep_more_scores_than_a_week_while_the_peak_guard_keeps_a_week() -> None:
    c = ctx(cap=10.0, step=30.0, cold=1)  # 336 steps a week
    week = 7 * c.steps_per_day
    history = np.full(3 * week, 100.0)
    history[: 2 * week : 20] = 400.0  # large errors only more than a week ago
    flat = lambda h, n: np.full(n, 100.0)  # noqa: E731
    week_only = PredictivePolicy(c, flat)
    more = PredictivePolicy(c, flat, calibration_scores=2 * week + 100)
    week_only.warm_up(history)
    more.warm_up(history)
    assert week_only.window == week
    assert more.window == 2 * week + 100
    # The week alone saw no error; the longer record still holds the old ones.
    assert week_only.quantile_score() == pytest.approx(0.0)
    assert more.quantile_score() > 0.0
    # The peak guard is the last week's, whatever the record's length: 1.25 x 100, not x 400.
    assert more.upper_demand(history, 100.0) == pytest.approx(125.0)


def test_hybrid_reacts_at_its_own_hpa_target_and_hpa_alone_at_the_reactive_default() -> None:
    from barberpro.ops.autoscaling import DEFAULT_HPA_TARGET, HYBRID_HPA_TARGET

    c = ctx(cap=10.0, step=1.0, cold=1)
    hybrid = make_policy("hybrid", c)
    hpa = make_policy("hpa", c)
    assert hybrid.reactive.target == HYBRID_HPA_TARGET  # type: ignore[attr-defined]
    assert hpa.inner.target == DEFAULT_HPA_TARGET  # type: ignore[attr-defined]
    # 80 requests on 10 ready replicas of 10: 80 % is the hybrid's target (no change), 70 % is not.
    state = ReplicaState(10, 10)
    assert HpaPolicy(c, HYBRID_HPA_TARGET).decide(np.array([80.0]), state) == 10
    assert hpa.decide(np.array([80.0]), state) == 12


def test_predictive_decision_says_which_part_set_it() -> None:
    c = ctx(cap=10.0, step=5.0, cold=1)
    last = lambda h, n: np.full(n, float(h[-1]))  # noqa: E731
    history = np.full(2016, 100.0)
    history[::60] = 300.0  # bursts: a wide margin, so the peak cap binds on a flat forecast
    policy = PredictivePolicy(c, last, scale_down_minutes=15.0)
    policy.warm_up(history)
    state = ReplicaState(1, 1)
    policy.decide(history, state)
    assert policy.last_decision is not None and policy.last_decision.part == "cap"
    assert policy.last_decision.wanted == c.replicas_for(1.25 * 300.0)
    # After a forecast burst the wanted count falls back, the hold keeps the burst's.
    burst = np.append(history, 2000.0)
    policy.decide(burst, state)
    policy.decide(np.append(burst, 100.0), state)
    assert policy.last_decision.part == "hold"
    assert policy.last_decision.held > policy.last_decision.wanted

    quiet = 100.0 + np.random.default_rng(1).normal(0.0, 2.0, 2016)  # a narrow margin, under the cap
    calm = PredictivePolicy(c, last)
    calm.warm_up(quiet)
    calm.decide(quiet, state)
    assert calm.last_decision is not None and calm.last_decision.part == "forecast+margin"


def test_hybrid_keeps_the_reactive_half_answer() -> None:
    c = ctx(cap=10.0, step=1.0, cold=1)
    hybrid = make_policy("hybrid", c, forecaster=lambda h, n: np.zeros(n))
    decision = hybrid.decide(np.array([500.0]), ReplicaState(1, 1))
    assert hybrid.last_reactive is not None  # type: ignore[attr-defined]
    assert decision == max(hybrid.last_reactive, hybrid.predictive.last_decision.held)  # type: ignore[attr-defined]
