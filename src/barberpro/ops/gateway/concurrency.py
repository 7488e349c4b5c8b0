"""Adaptive concurrency limit with priority load shedding.

The limit follows the gradient algorithm of Netflix's concurrency-limits (Gradient2): a
long-term average of request latency is the baseline, a short-term average the present;
when the present grows past the baseline, requests are queueing, and the limit shrinks by
the ratio. Requests carry a priority; each priority may only use a share of the limit, so
anonymous browsing is shed first and booking creation / payment webhooks last.
"""

from __future__ import annotations

import enum
import math
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
    long_window: int = 600  # samples: the baseline adapts slowly
    short_window: int = 10  # samples: the present
    tolerance: float = 1.5  # latency may grow this much before the limit shrinks
    update_every: int = 10  # samples between limit updates


class GradientLimiter:
    """Not thread-safe by design: the gateway calls it from the event loop only."""

    def __init__(self, settings: GradientSettings | None = None) -> None:
        self.settings = settings or GradientSettings()
        self.limit = self.settings.initial_limit
        self.in_flight = 0
        self._long: float | None = None
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
        self._short = latency if self._short is None else self._short + (latency - self._short) * (
            2 / (s.short_window + 1)
        )
        self._long = latency if self._long is None else self._long + (latency - self._long) * (
            2 / (s.long_window + 1)
        )
        self._samples += 1
        if self._samples % s.update_every:
            return
        assert self._long is not None and self._short is not None
        # A baseline that drifts up under sustained overload would hide queueing: pull it
        # back towards the present only when the present is better.
        if self._short < self._long:
            self._long = self._short + (self._long - self._short) * 0.5
        gradient = max(0.5, min(1.0, s.tolerance * self._long / self._short))
        queue = math.sqrt(self.limit)  # head-room to probe for more capacity
        target = self.limit * gradient + queue
        new_limit = self.limit * (1 - s.smoothing) + target * s.smoothing
        self.limit = max(s.min_limit, min(s.max_limit, new_limit))

    @property
    def baseline(self) -> float | None:
        return self._long
