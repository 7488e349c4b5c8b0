"""Adaptive concurrency limit and priority shedding."""

from __future__ import annotations

import math
import threading
import time

from barberpro.ops.gateway.concurrency import CriticalGate, GradientLimiter, GradientSettings, Priority


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _run(limiter: GradientLimiter, latency: float, n: int) -> None:
    clock = limiter._clock
    assert isinstance(clock, _Clock)
    for _ in range(n):
        assert limiter.try_acquire(Priority.CRITICAL)
        clock.now += latency
        limiter.release(Priority.CRITICAL, latency)


def test_limit_shrinks_when_latency_grows_and_recovers() -> None:
    limiter = GradientLimiter(GradientSettings(initial_limit=100), clock=_Clock())
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
    limiter = GradientLimiter(settings, clock=_Clock())
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
    limiter.release(Priority.PUBLIC, 0.01, sample=False)
    assert not limiter.try_acquire(Priority.PUBLIC)  # still above browsing's share
    assert limiter.try_acquire(Priority.CRITICAL)


def test_bookings_in_flight_reserve_slots_from_browsing() -> None:
    limiter = GradientLimiter(GradientSettings(initial_limit=20, critical_weight=4))
    assert limiter.try_acquire(Priority.CRITICAL)
    # 20 x 0.7 = 14 browsing slots, less 4 held back for the booking in flight (which counts too).
    assert sum(limiter.try_acquire(Priority.PUBLIC) for _ in range(30)) == 14 - 4 - 1
    limiter.release(Priority.CRITICAL, 0.01, sample=False)
    # Booking done: its reserve returns to browsing.
    assert sum(limiter.try_acquire(Priority.PUBLIC) for _ in range(30)) == 5
    assert limiter.critical_in_flight == 0 and limiter.in_flight == 14
    assert limiter.try_acquire(Priority.CRITICAL)  # bookings still fit: the limit plus a reserve


def _flood(limiter: GradientLimiter, clock: _Clock, work: float, seconds: float) -> list[tuple[float, float]]:
    """A one-core, CPU-bound server under a browsing flood: browsing's share is always full,
    one request finishes every `work` seconds and waits for all the others in flight."""
    trace = []
    end = clock.now + seconds
    while clock.now < end:
        in_flight = max(1, math.ceil(limiter.allowed(Priority.PUBLIC)))
        latency = work * in_flight
        clock.now += work
        limiter.in_flight += 1  # the request that finishes now was admitted earlier
        limiter.release(Priority.PUBLIC, latency)
        trace.append((limiter.limit, latency))
    return trace


def test_limit_settles_near_the_knee_and_does_not_drift_in_a_long_overload() -> None:
    clock = _Clock()
    limiter = GradientLimiter(GradientSettings(initial_limit=100), clock=clock)
    work = 0.002
    first = _flood(limiter, clock, work, 60)
    later = _flood(limiter, clock, work, 600)  # ten minutes: twenty baseline measurements
    assert limiter.baseline is not None and limiter.baseline <= 4 * work  # measured at min_limit
    # Latency stays near tolerance x baseline (plus the one-slot probe), the queue does not grow.
    for trace in (first[-10_000:], later[-10_000:]):
        latencies = sorted(latency for _, latency in trace)
        assert latencies[len(latencies) // 2] <= 2.5 * limiter.baseline
        assert max(limit for limit, _ in trace) < 15
    assert max(limit for limit, _ in later) <= max(limit for limit, _ in first) + 1


def test_baseline_samples_only_requests_admitted_during_the_measurement() -> None:
    clock = _Clock()
    limiter = GradientLimiter(GradientSettings(initial_limit=50, probe_samples=5), clock=clock)
    for _ in range(3):
        assert limiter.try_acquire(Priority.PUBLIC)
    clock.now += 0.5
    limiter.release(Priority.PUBLIC, 0.5)  # starts the first measurement; admitted before it
    assert limiter.probing and limiter.limit == limiter.settings.min_limit
    limiter.release(Priority.PUBLIC, 0.5)  # also admitted before: ignored
    for _ in range(5):
        assert limiter.try_acquire(Priority.PUBLIC)
        clock.now += 0.01
        limiter.release(Priority.PUBLIC, 0.01)
    assert not limiter.probing
    assert limiter.baseline == 0.01
    assert limiter.limit == 50  # back where it was


def test_a_baseline_measurement_does_not_shed_bookings() -> None:
    clock = _Clock()
    limiter = GradientLimiter(GradientSettings(initial_limit=100, probe_samples=25), clock=clock)
    assert limiter.try_acquire(Priority.PUBLIC)
    clock.now += 0.01
    limiter.release(Priority.PUBLIC, 0.01)  # the first finished request starts the measurement
    assert limiter.probing and limiter.limit == limiter.settings.min_limit
    # A burst of 60 bookings on a cold server: all admitted (the limit before the measurement
    # plus the reserve); browsing is held to the measurement's minimum meanwhile.
    assert sum(limiter.try_acquire(Priority.CRITICAL) for _ in range(60)) == 60
    assert not limiter.try_acquire(Priority.PUBLIC)
    assert sum(limiter.try_acquire(Priority.CRITICAL) for _ in range(60)) == 44  # 104 in flight


def test_the_gate_closes_for_a_booking_only_under_overload() -> None:
    clock = _Clock()
    gate = CriticalGate(max_wait=0.05, overload_window=1.0, clock=clock)
    gate.enter()  # nothing was shed: browsing and bookings share the process as before
    assert not gate.closed and gate.wait() == 0.0
    gate.leave()
    gate.shed()
    clock.now += 0.5
    gate.enter()  # a refusal half a second ago: overloaded
    assert gate.closed
    gate.enter()  # a second booking overlaps the first
    gate.leave()
    assert gate.closed  # still one in flight
    gate.leave()
    assert not gate.closed
    clock.now += 2.0  # the overload is over
    gate.enter()
    assert not gate.closed
    gate.leave()
    assert gate.closed_count == 1


def test_browsing_waits_for_the_booking_and_never_longer_than_the_bound() -> None:
    clock = _Clock()
    gate = CriticalGate(max_wait=0.2, clock=clock)
    gate.shed()
    gate.enter()
    waited: list[float] = []
    browsing = threading.Thread(target=lambda: waited.append(gate.wait()))
    browsing.start()
    time.sleep(0.05)
    assert browsing.is_alive()  # asleep, off the interpreter, while the booking runs
    gate.leave()
    browsing.join(1.0)
    assert not browsing.is_alive() and 0.03 < waited[0] < 0.2
    gate.enter()  # a booking that never finishes holds browsing for max_wait, no longer
    began = time.perf_counter()
    assert 0.15 < gate.wait() < 0.5 and time.perf_counter() - began < 0.5
    gate.leave()
