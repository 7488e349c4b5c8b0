"""Turning successive Prometheus scrapes into series worth scoring.

Raw counters only ever grow, so they are scored as rates; histograms as the mean and the
95th percentile of the observations made between two scrapes; gauges as they are. Request
counters with a ``status`` label also yield an error ratio (5xx / all), which exists from the
first scrape on even when no error has happened yet: a new ``status="500"`` series appearing
mid-incident would otherwise have no history to be judged against.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: float


def parse_text(text: str) -> list[tuple[str, str, list[Sample]]]:
    """Prometheus text -> [(family name, type, samples)] via prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    out = []
    for fam in text_string_to_metric_families(text):
        samples = [Sample(s.name, tuple(sorted(s.labels.items())), float(s.value)) for s in fam.samples]
        out.append((fam.name, fam.type, samples))
    return out


def series_key(name: str, labels: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return f"{name}{{{inner}}}" if inner else name


@dataclass
class SeriesDeriver:
    """Keeps the previous scrape so that counters and histograms become per-interval values.

    ``quantile`` (e.g. 0.95) also derives that quantile of each histogram. It is off by default:
    interpolated inside coarse buckets, a quantile jumps from bucket to bucket and sets false
    records; the mean catches the same regressions without that artefact.
    """

    quantile: float | None = None
    # A mean of a handful of heavy-tailed latencies is mostly noise: fewer observations than this
    # in an interval make its latency missing rather than a point to judge.
    min_observations: int = 20
    # Rates, ratios and means span the last ``window`` scrape intervals, like PromQL's rate() over
    # a range: a target that serves one scrape late shifts counts between two adjacent intervals,
    # and a one-interval rate would see that as a record spike followed by a dip.
    window: int = 2
    _prev: dict[tuple[str, Labels], float] = field(default_factory=dict)
    _prev_time: float | None = None
    _history: deque[tuple[float, dict[tuple[str, Labels], float]]] = field(default_factory=deque)

    def derive(self, families: list[tuple[str, str, list[Sample]]], now: float) -> dict[str, float]:
        current: dict[tuple[str, Labels], float] = {}
        for _fam, _kind, samples in families:
            for s in samples:
                current[(s.name, s.labels)] = s.value
        out: dict[str, float] = {}
        if self._history:
            self._prev_time, self._prev = self._history[0]
        dt = None if self._prev_time is None else now - self._prev_time
        if dt is not None and dt > 0:
            for fam, kind, samples in families:
                if fam.endswith("_created"):
                    continue  # creation timestamps of counters and histograms: not a signal
                if kind == "unknown":  # untyped exposition: go by the naming convention
                    kind = "counter" if fam.endswith("_total") else "gauge"
                if kind == "counter":
                    self._counter(fam, samples, dt, out)
                elif kind == "histogram":
                    self._histogram(fam, samples, dt, out)
                elif kind == "gauge":
                    for s in samples:
                        out[series_key(s.name, s.labels)] = s.value
        self._history.append((now, current))
        while len(self._history) > max(self.window, 1):
            self._history.popleft()
        return out

    def _delta(self, s: Sample) -> float:
        before = self._prev.get((s.name, s.labels))
        if before is None:
            return math.nan
        # A counter that went down was reset (process restart): its current value is the increase.
        return s.value - before if s.value >= before else s.value

    def _counter(self, fam: str, samples: list[Sample], dt: float, out: dict[str, float]) -> None:
        total = errors = 0.0
        has_status = False
        for s in samples:
            if not s.name.endswith("_total"):
                continue
            d = self._delta(s)
            if math.isnan(d):
                d = s.value  # a series born since the last scrape: its whole value is new
            out[series_key(s.name + ":rate", s.labels)] = d / dt
            status = dict(s.labels).get("status")
            if status is not None:
                has_status = True
                total += d
                if status.startswith("5"):
                    errors += d
        if has_status:
            base = fam.removesuffix("_total")
            out[f"{base}:error_ratio"] = errors / total if total > 0 else 0.0

    def _histogram(self, fam: str, samples: list[Sample], dt: float, out: dict[str, float]) -> None:
        groups: dict[Labels, dict[str, object]] = {}
        for s in samples:
            base = tuple((k, v) for k, v in s.labels if k != "le")
            g = groups.setdefault(base, {"buckets": []})
            d = self._delta(s)
            if s.name.endswith("_sum"):
                g["sum"] = d
            elif s.name.endswith("_count"):
                g["count"] = d
            elif s.name.endswith("_bucket"):
                le = dict(s.labels).get("le", "+Inf")
                buckets = g["buckets"]
                assert isinstance(buckets, list)
                buckets.append((float(le), d))
        for labels, g in groups.items():
            count = g.get("count", math.nan)
            total = g.get("sum", math.nan)
            assert isinstance(count, float) and isinstance(total, float)
            key_labels = list(labels)
            out[series_key(fam + ":rate", key_labels)] = (count / dt) if not math.isnan(count) else math.nan
            q_key = None if self.quantile is None else series_key(f"{fam}:p{round(self.quantile * 100)}", key_labels)
            if math.isnan(count) or count < max(self.min_observations, 1):
                # No observation in this interval: the latency is missing, not zero.
                out[series_key(fam + ":mean", key_labels)] = math.nan
                if q_key is not None:
                    out[q_key] = math.nan
                continue
            out[series_key(fam + ":mean", key_labels)] = total / count
            if q_key is not None and self.quantile is not None:
                buckets = g["buckets"]
                assert isinstance(buckets, list)
                out[q_key] = _bucket_quantile(self.quantile, sorted(buckets))


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q."""
    if not buckets or any(math.isnan(c) for _, c in buckets):
        return math.nan
    total = buckets[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            span = count - prev_count
            return prev_le + (le - prev_le) * ((rank - prev_count) / span if span > 0 else 1.0)
        prev_le, prev_count = le, count
    return prev_le
