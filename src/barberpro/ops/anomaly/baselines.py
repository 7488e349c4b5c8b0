"""Reference detectors measured next to ours in every evaluation run.

All are streaming (one point at a time, nothing from the future):

* ``null``: always 0, the NAB floor;
* ``random``: uniform noise per point (NAB's random detector), one run per seed;
* ``rolling_z``: |z| of the value against the mean and deviation of the previous ``window`` points;
* ``river_hst``: Half-Space Trees from the river library, on values scaled by river's own
  online min/max scaler (a well-known streaming anomaly detector from a third-party library).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from functools import partial

import numpy as np
import numpy.typing as npt

Values = npt.NDArray[np.float64]


def null_scores(values: Values, timestamps: Values | None = None) -> Values:
    return np.zeros(len(values), dtype=np.float64)


def random_scores(values: Values, timestamps: Values | None = None, seed: int = 0) -> Values:
    # Seed mixes in the length so files do not share one noise sequence.
    rng = np.random.default_rng([seed, len(values)])
    return rng.random(len(values))


def rolling_z_scores(values: Values, timestamps: Values | None = None, window: int = 100) -> Values:
    """|z| against the previous ``window`` points, mapped to [0, 1) by |z| / (|z| + 3)."""
    buf: deque[float] = deque(maxlen=window)
    total = 0.0
    total_sq = 0.0
    out = np.zeros(len(values), dtype=np.float64)
    for i, x in enumerate(np.asarray(values, dtype=np.float64).tolist()):
        if x != x:
            continue
        if len(buf) >= 10:
            k = len(buf)
            mean = total / k
            var = max(total_sq / k - mean * mean, 0.0)
            sd = math.sqrt(var)
            z = abs(x - mean) / sd if sd > 1e-12 else (0.0 if abs(x - mean) < 1e-12 else 1e6)
            out[i] = z / (z + 3.0)
        if len(buf) == window:
            old = buf[0]
            total -= old
            total_sq -= old * old
        buf.append(x)
        total += x
        total_sq += x * x
    return out


def river_hst_scores(values: Values, timestamps: Values | None = None, seed: int = 42) -> Values:
    from river import anomaly, compose, preprocessing

    model = compose.Pipeline(
        preprocessing.MinMaxScaler(),
        anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250, seed=seed),
    )
    out = np.zeros(len(values), dtype=np.float64)
    for i, x in enumerate(np.asarray(values, dtype=np.float64).tolist()):
        if x != x:
            continue
        features = {"value": x}
        out[i] = model.score_one(features)
        model.learn_one(features)
    return out


def river_available() -> bool:
    try:
        import river  # noqa: F401
    except ImportError:
        return False
    return True


def baseline_detectors(
    random_seeds: int = 3, include_library: bool = True
) -> dict[str, Callable[[Values, Values], Values]]:
    out: dict[str, Callable[[Values, Values], Values]] = {"null": null_scores}
    for seed in range(random_seeds):
        out[f"random_seed{seed}"] = partial(random_scores, seed=seed)
    out["rolling_z"] = rolling_z_scores
    if include_library and river_available():
        out["river_hst"] = river_hst_scores
    return out
