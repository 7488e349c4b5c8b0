"""Incidents and event-level metrics on small hand-made corpora."""

from __future__ import annotations

import numpy as np
import pytest

from barberpro.ops.anomaly.event_metrics import event_metrics
from barberpro.ops.anomaly.incidents import merge_incidents
from barberpro.ops.anomaly.nab_corpus import LabelledSeries


def test_alerts_closer_than_refractory_are_one_incident() -> None:
    scores = np.zeros(100)
    scores[[10, 12, 20, 60]] = 0.9
    incidents = merge_incidents(scores, 0.5, refractory=10)
    assert [(i.start, i.end, i.alerts) for i in incidents] == [(10, 20, 3), (60, 60, 1)]


def series(n: int, windows: list[tuple[int, int]], labels: list[int]) -> LabelledSeries:
    ts = np.datetime64("2026-01-01T00:00:00") + np.arange(n) * np.timedelta64(300, "s")
    fmt = [str(x).replace("T", " ") for x in ts]
    return LabelledSeries(
        name="x/f.csv",
        timestamps=ts.astype("datetime64[ns]"),
        values=np.zeros(n),
        windows=tuple((fmt[a], fmt[b]) for a, b in windows),
        labels=tuple(fmt[r] for r in labels),
    )


def test_event_metrics_hand_worked() -> None:
    # 1000 rows of 5 minutes: probation 150 rows; scored span = 850 rows = 2.951 days.
    s = series(1000, [(300, 340), (700, 740)], [320, 720])
    scores = np.zeros(1000)
    scores[318] = 1.0  # found, 2 intervals before the label
    scores[500] = 1.0  # false alert
    scores[100] = 1.0  # inside probation: ignored
    m = event_metrics([s], [scores], threshold=0.5, refractory=10)
    assert (m.windows, m.found, m.incidents, m.true_incidents, m.false_incidents) == (2, 1, 2, 1, 1)
    assert m.alert_precision == 0.5
    assert m.metric_days == pytest.approx(850 * 300 / 86400)
    assert m.false_alerts_per_metric_day == pytest.approx(1 / (850 * 300 / 86400))
    assert m.delay_median_intervals == -2.0
