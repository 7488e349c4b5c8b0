"""Event-level metrics: what an on-call person experiences, next to the NAB score.

Scored region: rows after NAB's probation, so these metrics and the NAB score see the same rows.

* incidents found / total: a labelled window counts as found when an incident starts inside it;
* alert precision: incidents starting inside a labelled window / all incidents;
* false alerts per metric-day: incidents starting outside every window, per day of scored data;
* detection delay: first alert inside a window minus the labelled anomaly point, in sampling
  intervals of that series (negative = before the label; NAB windows open before the label).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from barberpro.ops.anomaly.incidents import DEFAULT_REFRACTORY_POINTS, merge_incidents
from barberpro.ops.anomaly.nab_corpus import LabelledSeries
from barberpro.ops.anomaly.nab_scoring import probation_length


@dataclass(frozen=True)
class EventMetrics:
    windows: int
    found: int
    incidents: int
    true_incidents: int
    false_incidents: int
    metric_days: float
    alert_precision: float
    false_alerts_per_metric_day: float
    delay_median_intervals: float | None
    delay_p90_intervals: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def event_metrics(
    corpus: Sequence[LabelledSeries],
    scores: Sequence[npt.NDArray[np.float64]],
    threshold: float,
    refractory: int = DEFAULT_REFRACTORY_POINTS,
) -> EventMetrics:
    windows = found = incidents = true_inc = false_inc = 0
    days = 0.0
    delays: list[float] = []
    for series, a in zip(corpus, scores, strict=True):
        n = len(a)
        first = math.ceil(probation_length(n))
        ts = series.timestamps.astype("datetime64[s]").astype(np.int64)
        step = float(np.median(np.diff(ts))) if n > 1 else 1.0
        if n > first:
            days += float(ts[-1] - ts[first]) / 86400.0 + step / 86400.0
        layout = series.layout
        label_rows = _label_rows(series, ts)
        scored_windows = [(s, e) for s, e in layout.windows if e >= first]
        windows += len(scored_windows)
        found_now: set[int] = set()
        for inc in merge_incidents(a, threshold, refractory, first_row=first):
            incidents += 1
            hit = next((k for k, (s, e) in enumerate(scored_windows) if s <= inc.start <= e), None)
            if hit is None:
                false_inc += 1
                continue
            true_inc += 1
            if hit in found_now:
                continue
            found_now.add(hit)
            s, e = scored_windows[hit]
            label = next((r for r in label_rows if s <= r <= e), (s + e) // 2)
            delays.append(float(ts[inc.start] - ts[label]) / step)
        found += len(found_now)
    return EventMetrics(
        windows=windows,
        found=found,
        incidents=incidents,
        true_incidents=true_inc,
        false_incidents=false_inc,
        metric_days=days,
        alert_precision=true_inc / incidents if incidents else 0.0,
        false_alerts_per_metric_day=false_inc / days if days else 0.0,
        delay_median_intervals=float(np.median(delays)) if delays else None,
        delay_p90_intervals=float(np.percentile(delays, 90)) if delays else None,
    )


def _label_rows(series: LabelledSeries, ts: npt.NDArray[np.int64]) -> list[int]:
    rows = []
    for label in series.labels:
        t = np.datetime64(label.strip()).astype("datetime64[s]").astype(np.int64)
        rows.append(int(np.searchsorted(ts, t)))
    return rows
