"""Adaptive concurrency limit with priority load shedding.

The limit follows a latency gradient, as in Netflix's concurrency-limits and Envoy's adaptive
concurrency filter: the baseline is the lowest short-term latency average seen in a recent
window (Envoy's "minRTT", kept fresh by letting old windows expire), the present is the
short-term average; when the present grows past the baseline, requests are queueing, and
the limit shrinks by the ratio. A long-term mean would drift up under sustained overload and
hide the queue; a windowed minimum does not. Requests carry a priority; each priority may
only use a share of the limit, so anonymous browsing is shed first and booking creation /
payment webhooks last.
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
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
    min_limit: float = 8.0
    max_limit: float = 500.0
    smoothing: float = 0.2  # how far one update moves the limit towards its target
    baseline_window: float = 30.0  # seconds over which the baseline is the minimum
    short_window: int = 10  # samples: the present
    tolerance: float = 2.0  # latency may grow this much before the limit shrinks
    update_every: int = 10  # samples between limit updates


class GradientLimiter:
    """Not thread-safe by design: the gateway calls it from the event loop only."""

    def __init__(self, settings: GradientSettings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or GradientSettings()
        self.limit = self.settings.initial_limit
        self.in_flight = 0
        self._clock = clock
        self._minima: deque[tuple[int, float]] = deque()  # (second, lowest short average in it)
        self._short: float | None = None
        self._samples = 0
        self.shed_count = 0

    def try_acquire(self, priority: Priority) -> bool:
        allowed = self.limit * SHARE[priority]
        if priority is Priority.CRITICAL:
            allowed += CRITICAL_RESERVE
        if self.in_flight >= allowed:
            self.shed_count += 1
            return False
        self.in_flight += 1
        return True

    def release(self, latency: float, *, sample: bool = True) -> None:
        """One request finished after `latency` seconds; `sample=False` for failed/odd ones."""
        self.in_flight -= 1
        if sample and latency > 0:
            self._observe(latency)

    def _observe(self, latency: float) -> None:
        s = self.settings
        short = latency if self._short is None else self._short + (latency - self._short) * (
            2 / (s.short_window + 1)
        )
        self._short = short
        second = int(self._clock())
        if self._minima and self._minima[-1][0] == second:
            if short < self._minima[-1][1]:
                self._minima[-1] = (second, short)
        else:
            self._minima.append((second, short))
        while self._minima and self._minima[0][0] <= second - s.baseline_window:
            self._minima.popleft()
        self._samples += 1
        if self._samples % s.update_every:
            return
        baseline = min(value for _, value in self._minima)
        gradient = max(0.5, min(1.0, s.tolerance * baseline / short))
        queue = math.sqrt(self.limit)  # head-room to probe for more capacity
        target = self.limit * gradient + queue
        new_limit = self.limit * (1 - s.smoothing) + target * s.smoothing
        self.limit = max(s.min_limit, min(s.max_limit, new_limit))

    @property
    def baseline(self) -> float | None:
        return min((value for _, value in self._minima), default=None)
