"""Adaptive concurrency limit with priority load shedding.

The limit follows a latency gradient, as in Envoy's adaptive concurrency filter and Netflix's
concurrency-limits. The baseline ("minRTT") is measured, not remembered: every
`probe_interval` seconds the limit drops to `min_limit` until `probe_samples` requests have
finished, and the median of their latencies becomes the baseline; the limit then returns to
where it was. Between probes the present (a short moving average) is compared with the
baseline: past `tolerance` x the baseline, requests are queueing and the limit shrinks by
the ratio (at most by half per update); within it, the limit grows by one slot per update
(additive increase). A remembered minimum, or a long-term mean, drifts up during a long
overload (the only latencies seen are queued ones) and lets the queue grow back; a
measured one does not. The one-slot probe settles near the knee of a one-core Python
process, where every extra request in flight only adds queueing.

Requests carry a priority; each priority may only use a share of the limit, so anonymous
browsing is shed first and booking creation / payment webhooks last. Every critical request
in flight also takes `critical_weight` slots away from the lower priorities: under overload
a booking then competes for the interpreter (the GIL) with few browsing requests instead of
with browsing's whole share.
"""

from __future__ import annotations

import enum
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Priority(enum.IntEnum):
    CRITICAL = 0  # booking creation, payment webhooks
    STAFF = 1  # authenticated staff work
    PUBLIC = 2  # anonymous browsing and everything else


# Fraction of the current limit each priority may fill. CRITICAL can use all of it (and a
# small reserve above it) so that browsing can never starve a booking.
SHARE = {Priority.CRITICAL: 1.0, Priority.STAFF: 0.85, Priority.PUBLIC: 0.7}
CRITICAL_RESERVE = 4


@dataclass
class GradientSettings:
    initial_limit: float = 100.0  # start generous: a cold server should not shed a burst
    min_limit: float = 4.0  # also the limit while the baseline is measured
    max_limit: float = 500.0
    smoothing: float = 0.2  # how far one update moves the limit towards its target
    probe_interval: float = 30.0  # seconds between baseline measurements
    probe_samples: int = 25  # finished requests per baseline measurement
    short_window: int = 10  # samples: the present
    tolerance: float = 2.0  # latency may grow this much before the limit shrinks
    update_every: int = 10  # samples between limit updates
    critical_weight: float = 4.0  # lower-priority slots each critical request in flight reserves


class GradientLimiter:
    """Not thread-safe by design: the gateway calls it from the event loop only."""

    def __init__(self, settings: GradientSettings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or GradientSettings()
        self.limit = self.settings.initial_limit
        self.in_flight = 0
        self.critical_in_flight = 0
        self.baseline: float | None = None
        self._clock = clock
        self._short: float | None = None
        self._samples = 0
        self._probe: list[float] | None = None
        self._probe_started = 0.0
        self._resume_limit = self.limit
        self._next_probe = 0.0  # the first requests measure the first baseline
        self.shed_count = 0

    def allowed(self, priority: Priority) -> float:
        """How many requests may be in flight when one of `priority` asks to start."""
        if priority is Priority.CRITICAL:
            # A baseline measurement drops the limit to its minimum for a moment; bookings keep
            # the limit they had (a cold server's first measurement must not shed a booking burst).
            base = self._resume_limit if self._probe is not None else self.limit
            return base + CRITICAL_RESERVE
        return self.limit * SHARE[priority] - self.critical_in_flight * self.settings.critical_weight

    def try_acquire(self, priority: Priority) -> bool:
        if self.in_flight >= self.allowed(priority):
            self.shed_count += 1
            return False
        self.in_flight += 1
        if priority is Priority.CRITICAL:
            self.critical_in_flight += 1
        return True

    def release(self, priority: Priority, latency: float, *, sample: bool = True) -> None:
        """One request finished after `latency` seconds; `sample=False` for failed/odd ones."""
        self.in_flight -= 1
        if priority is Priority.CRITICAL:
            self.critical_in_flight -= 1
        if sample and latency > 0:
            self._observe(latency)

    @property
    def probing(self) -> bool:
        return self._probe is not None

    def _observe(self, latency: float) -> None:
        s = self.settings
        now = self._clock()
        if self._probe is not None:
            if now - latency < self._probe_started:
                return  # admitted before the probe, under the higher limit: not a baseline sample
            self._probe.append(latency)
            if len(self._probe) >= s.probe_samples:
                self.baseline = statistics.median(self._probe)
                self._probe = None
                self.limit = self._resume_limit
                self._short = None
                self._samples = 0
                self._next_probe = now + s.probe_interval
            return
        if now >= self._next_probe:
            self._probe = []
            self._probe_started = now
            self._resume_limit = self.limit
            self.limit = s.min_limit
            return
        short = latency if self._short is None else self._short + (latency - self._short) * (2 / (s.short_window + 1))
        self._short = short
        self._samples += 1
        if self._samples % s.update_every or self.baseline is None:
            return
        gradient = max(0.5, min(1.0, s.tolerance * self.baseline / short))
        # Queueing: shrink by the gradient. Within tolerance: probe upwards by one slot.
        target = self.limit * gradient if gradient < 1.0 else self.limit + 1
        new_limit = self.limit * (1 - s.smoothing) + target * s.smoothing
        self.limit = max(s.min_limit, min(s.max_limit, new_limit))


class CriticalGate:
    """Lets critical work (bookings, payment webhooks) run ahead of admitted browsing.

    One Python process shares one interpreter: a booking in flight competes for the GIL with
    every browsing request already admitted, and the limiter can only stop *new* ones. The
    gate closes while critical requests are in flight *under overload* (something was shed
    within the last `overload_window` seconds); browsing threads call `wait()` at their next
    pause point (the gateway uses each database statement) and sleep there, off the GIL, until
    the last critical request finishes, at most `max_wait` seconds per pause. Nothing waits
    on a browsing request, so a pause can only delay browsing, never block a booking; the
    bound keeps even a stuck booking from holding browsing for long. Without overload the gate
    never closes: bookings and browsing then share the process as before.

    `enter`/`leave`/`shed` run on the event loop; `wait` in worker threads.
    """

    def __init__(
        self, *, max_wait: float = 0.05, overload_window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_wait = max_wait
        self.overload_window = overload_window
        self._clock = clock
        self._open = threading.Event()
        self._open.set()
        self._critical = 0
        self._last_shed = -math.inf
        self.closed_count = 0  # how often the gate closed (tests, metrics)

    @property
    def closed(self) -> bool:
        return not self._open.is_set()

    def shed(self, now: float | None = None) -> None:
        """A request was refused: the process is overloaded."""
        self._last_shed = self._clock() if now is None else now

    def enter(self) -> None:
        """A critical request starts."""
        self._critical += 1
        if self._open.is_set() and self._clock() - self._last_shed < self.overload_window:
            self._open.clear()
            self.closed_count += 1

    def leave(self) -> None:
        """A critical request finished."""
        self._critical -= 1
        if self._critical <= 0:
            self._critical = 0
            self._open.set()

    def wait(self) -> float:
        """Block the calling (browsing) thread while the gate is closed; seconds waited."""
        if self._open.is_set():
            return 0.0
        began = time.perf_counter()
        self._open.wait(self.max_wait)
        return time.perf_counter() - began
