"""The live request rate, read from a Prometheus counter on a text endpoint.

Both actuators (the KEDA external scaler and the local autoscaled worker pool)
need the same input as the autoscaling policies: demand as *requests per step*
over the recent past, the shape of the traces the simulator replays. This
module turns a stream of scraped counter totals into exactly that.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_COUNTER = "barberpro_http_requests_total"

log = logging.getLogger(__name__)


def counter_series(exposition: str, counter: str = DEFAULT_COUNTER) -> dict[str, float]:
    """Every labelled series of `counter` in a Prometheus text exposition, keyed by its labels.

    Series are kept apart (not summed) so that a replica that disappears, or a
    new one that starts from zero, is not mistaken for a reset of the total.
    An app that has not served a request yet may expose no series at all.
    """
    from prometheus_client.parser import text_string_to_metric_families

    sample_name = counter if counter.endswith("_total") else f"{counter}_total"
    series: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name in (sample_name, counter):
                key = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                series[key] = series.get(key, 0.0) + float(sample.value)
    return series


def scrape_counter(url: str, counter: str = DEFAULT_COUNTER, timeout: float = 2.0) -> dict[str, float]:
    """GETs a Prometheus text endpoint (an app's /metrics or a Prometheus /federate) → series."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"metrics URL must be http(s): {url!r}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        body = response.read().decode("utf-8", errors="replace")
    return counter_series(body, counter)


@dataclass(frozen=True)
class DemandWindow:
    """Requests per step over the last completed steps, oldest first.

    `end` is the epoch second at which the last step closed; steps are aligned
    to multiples of `step_seconds` since the epoch, like the traces.
    """

    step_seconds: float
    end: float
    values: tuple[float, ...]

    @property
    def latest_rate_per_second(self) -> float:
        return self.values[-1] / self.step_seconds if self.values else 0.0


class CounterHistory:
    """Observations of a counter's series → requests per aligned step.

    Each series is followed on its own, as Prometheus' `increase()` does: one
    that goes down was reset (a restarted process) and its new value counts as
    the increase since the reset; a series seen for the first time after the
    first observation started from zero; one that vanished adds nothing more.
    Between observations the counter is interpolated linearly, so a missed
    scrape spreads its requests over the gap instead of dropping them.
    """

    def __init__(self, step_seconds: float, max_steps: int = 1440) -> None:
        if step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        self.step_seconds = step_seconds
        self.max_steps = max_steps
        self._times: deque[float] = deque()
        self._totals: deque[float] = deque()  # reset-corrected, non-decreasing
        # Last value and time seen per series; kept for a while after a series
        # vanishes so that a scrape that misses it once does not look like a reset.
        self._last_raw: dict[str, tuple[float, float]] | None = None

    def observe(self, at: float, series: Mapping[str, float]) -> None:
        if self._times and at <= self._times[-1]:
            return  # out of order or duplicate: ignore rather than corrupt the series
        if self._last_raw is None:
            corrected = 0.0  # the first observation is only the baseline
        else:
            increase = 0.0
            for key, value in series.items():
                before = self._last_raw.get(key, (0.0, at))[0]
                increase += value - before if value >= before else value
            corrected = self._totals[-1] + increase
        horizon = at - (self.max_steps + 2) * self.step_seconds
        kept = {k: v for k, v in (self._last_raw or {}).items() if v[1] >= horizon}
        kept.update((key, (value, at)) for key, value in series.items())
        self._last_raw = kept
        self._times.append(at)
        self._totals.append(corrected)
        while len(self._times) > 2 and self._times[1] < horizon:
            self._times.popleft()
            self._totals.popleft()

    def window(self, steps: int | None = None) -> DemandWindow:
        """Completed steps fully covered by observations, at most `steps` (default: all kept)."""
        step = self.step_seconds
        limit = self.max_steps if steps is None else min(steps, self.max_steps)
        if len(self._times) < 2:
            return DemandWindow(step, 0.0, ())
        times, totals = list(self._times), list(self._totals)
        first = math.ceil(times[0] / step)
        last = math.floor(times[-1] / step)
        first = max(first, last - limit)

        def total_at(at: float) -> float:
            # Boundaries lie inside [times[0], times[-1]]; interpolate between neighbours.
            i = min(max(bisect.bisect_left(times, at), 1), len(times) - 1)
            t0, t1 = times[i - 1], times[i]
            return totals[i - 1] + (totals[i] - totals[i - 1]) * (at - t0) / (t1 - t0)

        boundaries = [total_at(k * step) for k in range(first, last + 1)]
        values = tuple(b - a for a, b in itertools.pairwise(boundaries))
        return DemandWindow(step, last * step, values)


class CounterSampler:
    """Reads a counter every `interval` seconds on a daemon thread into a CounterHistory.

    Started explicitly (never at import); a failed scrape is counted and
    skipped, because an API under heavy load may answer /metrics late.
    """

    def __init__(
        self,
        read_series: Callable[[], Mapping[str, float]],
        step_seconds: float,
        interval: float,
        max_steps: int = 1440,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._read_series = read_series
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._history = CounterHistory(step_seconds, max_steps)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.last_success: float | None = None  # clock time of the last good read

    def sample_once(self) -> None:
        try:
            series = self._read_series()
        except Exception as exc:  # any scrape failure is the same to us: no data this time
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            if self.failures == 1 or self.failures % 20 == 0:
                log.warning("request counter unreadable (%d failures): %s", self.failures, self.last_error)
            return
        at = self._clock()
        with self._lock:
            self._history.observe(at, series)
            self.last_success = at

    def is_stale(self, max_age: float) -> bool:
        """True when no read has succeeded within `max_age` seconds (or ever)."""
        return self.last_success is None or self._clock() - self.last_success > max_age

    def window(self, steps: int | None = None) -> DemandWindow:
        with self._lock:
            return self._history.window(steps)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="counter-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.sample_once()
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))
