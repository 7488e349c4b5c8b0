"""Simulator timing, the summary recomputed from rows, and the bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.autoscaling import ReplicaState, ScalingContext, SchedulePolicy, simulate
from barberpro.ops.autoscaling.bounds import centred_rate, clairvoyant_bound, oracle_policy
from barberpro.ops.autoscaling.simulator import summarise


def ctx(cold: int = 2, cap: float = 10.0) -> ScalingContext:
    return ScalingContext(capacity_per_step=cap, cold_start_steps=cold, step_minutes=1.0)


class Stepper:
    """Asks for 1 replica, then 3 from step 5 on."""

    name = "stepper"

    def decide(self, history: np.ndarray, state: ReplicaState) -> int:
        return 3 if len(history) >= 5 else 1


def test_added_replicas_serve_only_after_the_cold_start() -> None:
    result = simulate(np.full(10, 5.0), Stepper(), ctx(cold=2))
    assert list(result.provisioned) == [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]
    assert list(result.ready) == [1, 1, 1, 1, 1, 1, 1, 3, 3, 3]


def test_removed_replicas_stop_at_once_youngest_first() -> None:
    schedule = SchedulePolicy("s", np.array([4, 4, 2, 2]))
    result = simulate(np.zeros(4), schedule, ctx(cold=3))
    assert list(result.provisioned) == [4, 4, 2, 2]
    assert list(result.ready) == [4, 4, 2, 2]  # the warm start is ready at once


def test_summary_counts_steps_over_ready_capacity_and_cost() -> None:
    demand = np.array([5.0, 25.0, 5.0, 40.0])
    s = summarise("x", demand, np.array([2, 2, 3, 3]), np.array([2, 2, 2, 3]), 10.0, 30.0)
    assert s.steps_over_capacity == 2  # 25 > 20 and 40 > 30
    assert s.requests_over_capacity == 15.0
    assert s.replica_hours == 10 * 0.5
    assert s.scale_actions == 1
    assert s.minutes_over_capacity == 60.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 500, allow_nan=False), min_size=5, max_size=80),
    st.integers(0, 3),
)
def test_oracle_never_misses_and_rows_reproduce_its_summary(values: list[float], cold: int) -> None:
    demand = np.array(values)
    c = ctx(cold=cold)
    result = simulate(demand, oracle_policy(demand, c, 0), c)
    assert result.summary.steps_over_capacity == 0
    again = summarise("oracle", result.demand, result.provisioned, result.ready, c.capacity_per_step, 1.0)
    assert again == result.summary
    # Exactly enough: no step has a replica more than its own need and the next cold start's.
    need = np.maximum(1, np.ceil(demand / c.capacity_per_step - 1e-9))
    assert all(result.ready >= need)


def test_centred_rate_is_a_moving_average() -> None:
    rate = centred_rate(np.array([0, 0, 15, 0, 0, 0], dtype=float), step_minutes=5.0)  # 3-step window
    assert np.allclose(rate, [0, 5, 5, 5, 0, 0])


def test_clairvoyant_bound_meets_its_target_and_costs_at_least_the_oracle() -> None:
    rng = np.random.default_rng(1)
    rate = 100 + 80 * np.sin(np.arange(3000) * 2 * np.pi / 1440)
    demand = rng.poisson(rate).astype(float)
    c = ctx(cold=2, cap=20.0)
    bound = clairvoyant_bound(demand, c, 1500, 0.01)
    oracle = simulate(demand, oracle_policy(demand[1500:], c, 1500), c, start=1500).summary
    assert bound.result.summary.share_steps_over_capacity <= 0.01
    assert bound.headroom > 0  # Poisson noise needs some headroom over the rate
    assert bound.result.summary.replica_hours >= oracle.replica_hours
