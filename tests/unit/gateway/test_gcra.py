"""GCRA arithmetic and the in-process store: exact admission counts."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.adapters.kv.gcra import MICROS, RatePolicy, decide
from barberpro.adapters.kv.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.us = 1_000 * MICROS

    def __call__(self) -> int:
        return self.us


def test_burst_then_one_per_interval() -> None:
    clock = Clock()
    store = MemoryStore(clock_us=clock)
    policy = RatePolicy("p", 100, 60)
    admitted = sum(store.rate_limit_now("k", policy).allowed for _ in range(5_000))
    assert admitted == 100  # exact within one process
    refused = store.rate_limit_now("k", policy)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == pytest.approx(0.6)
    clock.us += int(0.6 * MICROS)
    assert store.rate_limit_now("k", policy).allowed
    assert not store.rate_limit_now("k", policy).allowed


def test_remaining_counts_down_and_keys_are_independent() -> None:
    store = MemoryStore(clock_us=Clock())
    policy = RatePolicy("p", 10, 60, burst=3)
    assert [store.rate_limit_now("a", policy).remaining for _ in range(3)] == [2, 1, 0]
    assert store.rate_limit_now("b", policy).allowed


def test_cost_and_peek() -> None:
    store = MemoryStore(clock_us=Clock())
    policy = RatePolicy("p", 10, 10)
    assert store.rate_limit_now("k", policy, cost=4, peek=True).remaining == 6
    assert store.rate_limit_now("k", policy, cost=10).allowed  # the peek consumed nothing
    assert not store.rate_limit_now("k", policy, cost=1, peek=True).allowed


def test_async_api_matches() -> None:
    store = MemoryStore(clock_us=Clock())
    decision = asyncio.run(store.rate_limit("k", RatePolicy("p", 5, 1)))
    assert decision.allowed and decision.remaining == 4


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 500),
    period=st.integers(1, 3600),
    burst=st.integers(1, 200),
    gaps=st.lists(st.integers(0, 5 * MICROS), min_size=1, max_size=300),
)
def test_never_admits_more_than_burst_plus_refill(limit: int, period: int, burst: int, gaps: list[int]) -> None:
    policy = RatePolicy("p", limit, period, burst)
    tat = None
    now = 0
    admitted = 0
    for gap in gaps:
        now += gap
        decision, new_tat = decide(tat, now, policy.interval_us, policy.tolerance_us)
        if decision.allowed:
            admitted += 1
            tat = new_tat
            assert decision.remaining >= 0
        else:
            assert decision.retry_after > 0
    assert admitted <= burst + now // policy.interval_us


@settings(max_examples=100, deadline=None)
@given(limit=st.integers(1, 200), burst=st.integers(1, 200), steps=st.integers(1, 50))
def test_steady_arrivals_at_the_rate_are_all_admitted(limit: int, burst: int, steps: int) -> None:
    policy = RatePolicy("p", limit, 60, burst)
    tat = None
    for i in range(steps):
        decision, tat = decide(tat, i * policy.interval_us, policy.interval_us, policy.tolerance_us)
        assert decision.allowed


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RatePolicy("p", 0, 60)
    with pytest.raises(ValueError):
        RatePolicy("p", 10, 60, burst=0)
