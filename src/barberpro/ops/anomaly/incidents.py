"""From per-point scores to alerts and incidents.

An *alert* is a point whose score reaches the threshold. Alerts closer together than the
refractory period (in points) belong to one *incident*, which starts at its first alert:
that is what pages a person, and what event-level metrics count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DEFAULT_REFRACTORY_POINTS = 150  # same period as the detector's own refractory stage


@dataclass(frozen=True)
class Incident:
    start: int  # row of the first alert
    end: int  # row of the last alert
    peak: float  # highest score inside the incident
    alerts: int


def alert_flags(scores: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.int8]:
    return (np.asarray(scores) >= threshold).astype(np.int8)


def merge_incidents(
    scores: npt.NDArray[np.float64],
    threshold: float,
    refractory: int = DEFAULT_REFRACTORY_POINTS,
    first_row: int = 0,
) -> list[Incident]:
    """Group alerts at rows >= ``first_row``; a gap of more than ``refractory`` rows opens a new incident."""
    a = np.asarray(scores, dtype=np.float64)
    rows = np.flatnonzero(a >= threshold)
    rows = rows[rows >= first_row]
    incidents: list[Incident] = []
    if rows.size == 0:
        return incidents
    start = prev = int(rows[0])
    for r in rows[1:].tolist():
        if r - prev > refractory:
            incidents.append(_incident(a, start, prev, threshold))
            start = r
        prev = r
    incidents.append(_incident(a, start, prev, threshold))
    return incidents


def _incident(a: npt.NDArray[np.float64], start: int, end: int, threshold: float) -> Incident:
    seg = a[start : end + 1]
    return Incident(start, end, float(seg.max()), int(np.count_nonzero(seg >= threshold)))
