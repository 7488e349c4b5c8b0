"""Adaptive concurrency limit and priority shedding."""

from __future__ import annotations

from barberpro.ops.gateway.concurrency import GradientLimiter, GradientSettings, Priority


def _run(limiter: GradientLimiter, latency: float, n: int) -> None:
    for _ in range(n):
        assert limiter.try_acquire(Priority.CRITICAL)
        limiter.release(latency)


def test_limit_shrinks_when_latency_grows_and_recovers() -> None:
    limiter = GradientLimiter(GradientSettings(initial_limit=100))
    _run(limiter, 0.010, 2_000)
    steady = limiter.limit
    assert steady >= 100  # low, stable latency: the limit probes upwards
    _run(limiter, 0.080, 300)  # queueing: latency 8x the baseline
    shrunk = limiter.limit
    assert shrunk < steady * 0.5
    _run(limiter, 0.010, 2_000)
    assert limiter.limit > shrunk * 2


def test_limit_stays_within_bounds() -> None:
    settings = GradientSettings(initial_limit=20, min_limit=5, max_limit=50)
    limiter = GradientLimiter(settings)
    _run(limiter, 0.001, 5_000)
    assert limiter.limit <= 50
    _run(limiter, 1.0, 5_000)
    assert limiter.limit >= 5


def test_browsing_is_shed_before_bookings() -> None:
    limiter = GradientLimiter(GradientSettings(initial_limit=10))
    admitted = {Priority.PUBLIC: sum(limiter.try_acquire(Priority.PUBLIC) for _ in range(30))}
    admitted[Priority.STAFF] = sum(limiter.try_acquire(Priority.STAFF) for _ in range(30))
    admitted[Priority.CRITICAL] = sum(limiter.try_acquire(Priority.CRITICAL) for _ in range(30))
    # Browsing fills 70 % of the limit, staff up to 85 %, bookings the limit plus a reserve.
    assert admitted == {Priority.PUBLIC: 7, Priority.STAFF: 2, Priority.CRITICAL: 5}
    assert limiter.in_flight == 14
    assert not limiter.try_acquire(Priority.PUBLIC)
    limiter.release(0.01)
    assert not limiter.try_acquire(Priority.PUBLIC)  # still above browsing's share
    assert limiter.try_acquire(Priority.CRITICAL)
