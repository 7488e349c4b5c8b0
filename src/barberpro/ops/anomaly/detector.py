"""The default streaming anomaly detector: multi-view envelope novelty with a refractory period.

One value at a time, O(1) time and memory per point, no look-ahead: nothing here knows the
length, the minimum or the maximum of the whole series.

The value is looked at through five views: the raw value, a fast and a slow exponentially
weighted mean (level), and a fast and a slow exponentially weighted mean absolute deviation
(volatility). Each view keeps an *envelope*: the lowest and highest value it has produced,
relaxing slowly towards its own running mean so that old extremes fade (a level shift becomes
the new normal after a while). The surprise of a point is how far any view breaks out of its
envelope, in units of the envelope's width: a spike or a dip beyond anything seen (raw view),
a level shift or a slow drift out of range (level views), a metric that suddenly turns noisy
or goes flat (volatility views). Novelty relative to the series' own history is what the best
NAB detectors exploit; the envelopes give it in constant memory.

The score is the largest break-out, capped at 1. A refractory stage then keeps only the first
point of a burst: a score passes when it exceeds the recent peak, which decays linearly to zero
over ``refractory`` points; everything below it is multiplied by ``damping``. So one incident
gives one alert at whatever threshold the operator chooses, and a later, stronger break-out
still gets through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class DetectorConfig:
    warmup: int = 150  # points scored 0 while the envelopes form (NAB's probation is >= 150 rows)
    level_fast: float = 0.1  # EWMA weights of the two level views
    level_slow: float = 0.01
    vol_fast: float = 0.05  # EWMA weights of the two volatility views
    vol_slow: float = 0.01
    mean_alpha: float = 0.01  # running mean each envelope relaxes towards
    relax: float = 0.0001  # per point, fraction of the envelope that relaxes to that mean
    refractory: int = 150  # points for the recent peak to decay to zero
    damping: float = 0.0  # factor for scores inside a refractory period
    margin: float = 1.0  # a break-out counts only beyond this many typical steps of its view
    step_alpha: float = 0.01  # EWMA weight of each view's typical step |v_t - v_(t-1)|


DEFAULT_CONFIG = DetectorConfig()
# Frozen by cross-validation across the nab-dev files (docs/anomaly.md, benchmarks/anomaly_nab.py).
DEFAULT_THRESHOLD = 0.016

_VIEWS = 5


class StreamingDetector:
    """Per-series state: 26 floats and two ints, whatever the length of the series."""

    __slots__ = ("_c", "_hi", "_last", "_lo", "_mean", "_step", "level_f", "level_s", "n", "peak", "vol_f", "vol_s")

    def __init__(self, config: DetectorConfig = DEFAULT_CONFIG) -> None:
        self._c = config
        self.n = 0
        self.level_f = self.level_s = self.vol_f = self.vol_s = 0.0
        self.peak = 0.0
        self._lo = [0.0] * _VIEWS
        self._hi = [0.0] * _VIEWS
        self._mean = [0.0] * _VIEWS
        self._last = [0.0] * _VIEWS
        self._step = [0.0] * _VIEWS

    @property
    def config(self) -> DetectorConfig:
        return self._c

    def update(self, value: float) -> float:
        """Feed one value; returns its anomaly score in [0, 1].

        A missing value (NaN or inf) scores 0 and leaves the state untouched: a gap in scraping
        must neither raise an alert nor teach the detector anything.
        """
        if value != value or value in (float("inf"), float("-inf")):
            return 0.0
        c = self._c
        if self.n == 0:
            self.level_f = self.level_s = value
        self.n += 1
        self.level_f += c.level_fast * (value - self.level_f)
        self.level_s += c.level_slow * (value - self.level_s)
        dev = abs(value - self.level_f)
        self.vol_f += c.vol_fast * (dev - self.vol_f)
        self.vol_s += c.vol_slow * (dev - self.vol_s)

        lo, hi, mean, last, step = self._lo, self._hi, self._mean, self._last, self._step
        if self.n == 1:
            views = (value, self.level_f, self.level_s, self.vol_f, self.vol_s)
            for j in range(_VIEWS):
                lo[j] = hi[j] = mean[j] = last[j] = views[j]
            return 0.0

        best = 0.0
        relax, mean_alpha, margin, step_alpha = c.relax, c.mean_alpha, c.margin, c.step_alpha
        n_alpha = 1.0 / (self.n - 1)
        for j, v in enumerate((value, self.level_f, self.level_s, self.vol_f, self.vol_s)):
            st = step[j]
            # 1/n at first: an EWMA started at 0 would underestimate the step for ~1/alpha points.
            st += (step_alpha if n_alpha < step_alpha else n_alpha) * (abs(v - last[j]) - st)
            step[j] = st
            last[j] = v
            h, low = hi[j], lo[j]
            width = h - low
            # A flat history has zero width: any move off it is then maximally novel.
            floor = 1e-9 * (abs(h) + 1e-9)
            if width < floor:
                width = floor
            # Noise sets a new record now and then by a fraction of a step: not news.
            slack = margin * st
            if v > h:
                e = (v - h - slack) / width
                h = v
            elif v < low:
                e = (low - v - slack) / width
                low = v
            else:
                e = 0.0
            m = mean[j] + mean_alpha * (v - mean[j])
            mean[j] = m
            hi[j] = h - relax * (h - m)
            lo[j] = low - relax * (low - m)
            if e > best:
                best = e

        score = 1.0 if best > 1.0 else best
        if self.n <= c.warmup:
            score = 0.0
        peak = self.peak
        out = score if score > peak else score * c.damping
        decayed = peak - 1.0 / c.refractory
        self.peak = score if score > decayed else (decayed if decayed > 0.0 else 0.0)
        return out

    def score_many(self, values: Iterable[float]) -> npt.NDArray[np.float64]:
        update = self.update
        return np.fromiter((update(v) for v in np.asarray(values, dtype=np.float64).tolist()),
                           dtype=np.float64)


def score_series(values: Iterable[float], config: DetectorConfig = DEFAULT_CONFIG) -> npt.NDArray[np.float64]:
    """Score a whole series by streaming it point by point (same result as calling ``update``)."""
    return StreamingDetector(config).score_many(values)
