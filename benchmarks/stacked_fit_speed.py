"""The stacked forecaster's fit: the normal-equations solver against the rows solver, same run.

One refit per dev trace on the history before its test span (what the rolling
evaluation's first refit sees), interleaved, median of `--repeat`. Both solvers
minimise the same robust objective; the weights they reach are compared (largest
absolute difference). Also the fit's feature building for all origins at once
(`training_features`) against the one-origin path (`components` per origin),
whose features the forecast itself uses. Prints JSON.

    .venv/bin/python benchmarks/stacked_fit_speed.py [--data-dir ../shared/data/traffic] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from forecast_accuracy import TRACES  # the dev traces and their test-span days, as evaluated there

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import numpy as np

    from barberpro.ops.autoscaling.traces import load_trace
    from barberpro.ops.forecasting.stacked import StackedProfileForecaster, features, training_features

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/traffic"))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    report: dict[str, object] = {}
    for trace_file, test_days in TRACES.items():
        trace = load_trace(Path(args.data_dir) / trace_file)
        y = trace.values[: len(trace.values) - trace.steps_for_days(test_days)]
        seconds: dict[str, list[float]] = {"normal": [], "rows": []}
        weights: dict[str, np.ndarray] = {}
        for _ in range(args.repeat):
            for solver in ("normal", "rows"):
                forecaster = StackedProfileForecaster(trace.step_minutes, solver=solver)
                t0 = time.perf_counter()
                forecaster.fit(y)
                seconds[solver].append(time.perf_counter() - t0)
                weights[solver] = forecaster.weights
        # The fit's own origins and horizons, from a fit's set-up (the last 14 days, every quarter hour).
        probe = StackedProfileForecaster(trace.step_minutes)
        n = len(y)
        origins = np.arange(n - 1, max(probe.period, n - probe.fit_steps) - 1, -probe.every)[::-1]
        horizons = np.minimum(np.full(len(origins), probe.short_leads), n - origins)
        t0 = time.perf_counter()
        blocks = training_features(probe.base, y, origins, horizons)
        at_once = time.perf_counter() - t0
        t0 = time.perf_counter()
        gap = 0.0
        for t, h in zip(origins.tolist(), horizons.tolist(), strict=True):
            parts = probe.base.components(y[:t], h)
            if parts is not None and t in blocks:
                gap = max(gap, float(np.max(np.abs(features(parts) - blocks[t]) / np.maximum(np.abs(blocks[t]), 1.0))))
        one_origin = time.perf_counter() - t0
        normal, rows = statistics.median(seconds["normal"]), statistics.median(seconds["rows"])
        report[trace.name] = {
            "history_steps": n,
            "fit_seconds_normal_equations": normal,
            "fit_seconds_rows": rows,
            "fit_speedup": rows / normal,
            "weights_max_abs_difference": float(np.max(np.abs(weights["normal"] - weights["rows"]))),
            "feature_origins": len(origins),
            "features_seconds_at_once": at_once,
            "features_seconds_one_origin_each": one_origin,
            "features_speedup": one_origin / at_once,
            "features_max_relative_difference": gap,
        }
        print(json.dumps({trace.name: report[trace.name]}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
