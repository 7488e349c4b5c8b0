"""Numenta Anomaly Benchmark (NAB v1.1) scoring, reproduced rule for rule.

The rules follow NAB's published `nab/sweeper.py` and `nab/scorer.py`:

* the first ``min(floor(0.15 N), 750)`` rows of a file are probationary and never scored;
* a row inside a labelled window scores ``tpWeight * S(p) / S(-1)`` with
  ``S(p) = 2 / (1 + e^(5p)) - 1`` and ``p = -(right - i + 1) / width`` (so the first row of the
  window earns exactly ``tpWeight`` and the right edge about 0);
* a window earns the best (earliest) of its detected rows, or ``-fnWeight`` if none is detected;
* a detected row outside every window costs ``fpWeight * S(|prevRight - i| / (prevWidth - 1))``
  (``S`` is ``-1`` past three window widths, and ``-fpWeight`` when no window precedes the row);
* a row is "detected" at threshold ``t`` when its anomaly score is ``>= t``; one threshold serves
  the whole corpus, and the normalised score is ``100 (S - S_null) / (S_perfect - S_null)``.

The per-threshold sweep is vectorised (sorting plus cumulative sums) but yields exactly the
score NAB's row-by-row loop yields at every distinct anomaly-score value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PROBATION_PERCENT = 0.15
MAX_PROBATION_ROWS = PROBATION_PERCENT * 5000  # NAB caps probation at 750 rows

# Sentinels in the per-row window index.
OUTSIDE = -1
PROBATION = -2


@dataclass(frozen=True)
class CostProfile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": CostProfile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": CostProfile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def profiles_from_json(raw: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, CostProfile]:
    """Read NAB's ``profiles.json`` layout."""
    out: dict[str, CostProfile] = {}
    for name, body in raw.items():
        cm = body["CostMatrix"]
        out[name] = CostProfile(name, float(cm["tpWeight"]), float(cm["fpWeight"]), float(cm["fnWeight"]))
    return out


def scaled_sigmoid(relative_position: float) -> float:
    if relative_position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


def probation_length(n_rows: int) -> float:
    return min(math.floor(PROBATION_PERCENT * n_rows), MAX_PROBATION_ROWS)


@dataclass(frozen=True)
class FileLayout:
    """Where the windows of one file lie, in row indices (inclusive bounds)."""

    n_rows: int
    windows: tuple[tuple[int, int], ...]

    @classmethod
    def from_timestamps(cls, timestamps: npt.NDArray[np.datetime64], windows: Sequence[Sequence[str]]) -> FileLayout:
        index = {t: i for i, t in enumerate(timestamps.astype("datetime64[s]").tolist())}
        rows = []
        for start, end in windows:
            s = index[np.datetime64(start.strip()).astype("datetime64[s]").tolist()]
            e = index[np.datetime64(end.strip()).astype("datetime64[s]").tolist()]
            rows.append((s, e))
        return cls(len(timestamps), tuple(sorted(rows)))


@dataclass(frozen=True)
class RowWeights:
    """Per-row NAB sweep score (already weighted by the profile) and window membership."""

    sweep: npt.NDArray[np.float64]
    window: npt.NDArray[np.int64]  # window number, OUTSIDE, or PROBATION
    n_windows: int  # windows with at least one scorable row


def row_weights(layout: FileLayout, profile: CostProfile) -> RowWeights:
    n = layout.n_rows
    sweep = np.empty(n, dtype=np.float64)
    window = np.full(n, OUTSIDE, dtype=np.int64)
    max_tp = scaled_sigmoid(-1.0)
    idx = np.arange(n, dtype=np.float64)
    prev_right: int | None = None
    prev_width = 0.0
    cursor = 0
    for w, (start, right) in enumerate(layout.windows):
        # Rows between the previous window (or the start) and this window are FP rows.
        _fill_outside(sweep, idx, cursor, start, prev_right, prev_width, profile)
        width = float(right - start + 1)
        pos = -(right - idx[start : right + 1] + 1.0) / width
        sweep[start : right + 1] = (2.0 / (1.0 + np.exp(5.0 * pos)) - 1.0) * profile.tp_weight / max_tp
        window[start : right + 1] = w
        prev_right, prev_width, cursor = right, width, right + 1
    _fill_outside(sweep, idx, cursor, n, prev_right, prev_width, profile)
    probation = math.ceil(probation_length(n))
    window[:probation] = PROBATION
    scorable_windows = {int(x) for x in np.unique(window) if x >= 0}
    return RowWeights(sweep, window, len(scorable_windows))


def _fill_outside(
    sweep: npt.NDArray[np.float64],
    idx: npt.NDArray[np.float64],
    lo: int,
    hi: int,
    prev_right: int | None,
    prev_width: float,
    profile: CostProfile,
) -> None:
    if hi <= lo:
        return
    if prev_right is None:
        sweep[lo:hi] = -1.0 * profile.fp_weight
        return
    # NAB divides by (width - 1); a one-row window would divide by zero there too.
    pos = np.abs(prev_right - idx[lo:hi]) / (prev_width - 1.0)
    s = np.where(pos > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(pos, 3.0))) - 1.0)
    sweep[lo:hi] = s * profile.fp_weight


@dataclass(frozen=True)
class ThresholdCurve:
    """Corpus (or file) score for each distinct threshold, highest threshold first.

    ``scores[k]`` is the raw NAB score when every row with anomaly score ``>= thresholds[k]``
    is a detection; ``thresholds[0]`` is 1.1 (nothing detected), as in NAB.
    """

    thresholds: npt.NDArray[np.float64]
    scores: npt.NDArray[np.float64]
    n_windows: int

    def score_at(self, threshold: float) -> float:
        # Last curve point whose threshold is still >= the requested one: same rows detected.
        k = int(np.searchsorted(-self.thresholds, -threshold, side="right")) - 1
        return float(self.scores[max(k, 0)])

    def best(self) -> tuple[float, float]:
        k = int(np.argmax(self.scores))
        return float(self.thresholds[k]), float(self.scores[k])


def contributions(
    anomaly_scores: npt.NDArray[np.float64], weights: RowWeights, profile: CostProfile, offset: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per scorable row: (anomaly score, change of the total score when this row turns on).

    Turning rows on from the highest anomaly score downwards, an FP row adds its sweep score
    and a window row adds how much it raises its window's running maximum (from -fnWeight).
    """
    a = np.asarray(anomaly_scores, dtype=np.float64)
    keep = weights.window != PROBATION
    a, sweep, win = a[keep], weights.sweep[keep], weights.window[keep]
    delta = np.where(win == OUTSIDE, sweep, 0.0)
    for w in np.unique(win[win >= 0]):
        rows = np.flatnonzero(win == w)
        order = rows[np.argsort(-a[rows], kind="stable")]
        running = np.maximum.accumulate(np.concatenate(([-profile.fn_weight], sweep[order])))
        delta[order] = np.diff(running)
    return a, delta


def threshold_curve(
    parts: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    n_windows: int,
    profile: CostProfile,
) -> ThresholdCurve:
    """Combine files' contributions into one sweep over thresholds (NAB's corpus optimiser)."""
    a = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    d = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    order = np.argsort(-a, kind="stable")
    a, d = a[order], d[order]
    base = -profile.fn_weight * n_windows
    total = base + np.cumsum(d)
    if a.size == 0:
        return ThresholdCurve(np.array([1.1]), np.array([base]), n_windows)
    # Score at a threshold value counts every row with that score: take the last row of each run.
    last_of_run = np.flatnonzero(np.concatenate((a[1:] != a[:-1], [True])))
    thresholds = np.concatenate(([1.1], a[last_of_run]))
    scores = np.concatenate(([base], total[last_of_run]))
    return ThresholdCurve(thresholds, scores, n_windows)


def normalised(raw: float, n_windows: int, profile: CostProfile) -> float:
    """100 (S - S_null) / (S_perfect - S_null): null detects nothing, perfect hits every window start."""
    null = -profile.fn_weight * n_windows
    perfect = profile.tp_weight * n_windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


@dataclass(frozen=True)
class ScoredFile:
    name: str
    anomaly_scores: npt.NDArray[np.float64]
    layout: FileLayout


class NabScorer:
    """Scores a set of files for one cost profile; reusable for many thresholds and folds."""

    def __init__(self, files: Sequence[ScoredFile], profile: CostProfile) -> None:
        self.profile = profile
        self.names = [f.name for f in files]
        self._parts: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
        self._n_windows: list[int] = []
        for f in files:
            w = row_weights(f.layout, profile)
            self._parts.append(contributions(f.anomaly_scores, w, profile))
            self._n_windows.append(w.n_windows)

    def curve(self, subset: Sequence[int] | None = None) -> ThresholdCurve:
        chosen = range(len(self._parts)) if subset is None else subset
        return threshold_curve([self._parts[i] for i in chosen], sum(self._n_windows[i] for i in chosen), self.profile)

    def file_score(self, i: int, threshold: float) -> float:
        return self.curve([i]).score_at(threshold)

    def corpus_score(self, threshold: float, subset: Sequence[int] | None = None) -> float:
        chosen = list(range(len(self._parts))) if subset is None else list(subset)
        return sum(self.file_score(i, threshold) for i in chosen)

    def n_windows(self, subset: Sequence[int] | None = None) -> int:
        chosen = range(len(self._parts)) if subset is None else subset
        return sum(self._n_windows[i] for i in chosen)
