"""Forecast accuracy on the dev traces: every model beside the seasonal naive baseline, same run.

Rolling origin, refit daily on an expanding window over the test span (last 7
days; ELB: last 4), horizons 15 minutes (origins hourly) and 24 hours (origins
daily). Prints JSON: per trace and model MASE (primary), WAPE, sMAPE, pinball
at the provisioning quantile, 80/95 % coverage, fit + predict seconds; then the
default model's MASE against seasonal naive's and its speed against the
Prophet + LSTM hybrid.

    .venv/bin/python benchmarks/forecast_accuracy.py [--data-dir ../shared/data/traffic] [--models a,b] [--validation]

`--validation` drops each trace's test span and evaluates on the span of the
same length before it: models and settings are compared there, and the test
span is run once after the choice.

Each model is fitted once on a small synthetic series before anything is timed,
so its imports (torch, prophet) and just-in-time compilation (statsforecast's
numba code) are paid once per process, as in a long-running scaler, and not
charged to whichever trace comes first.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACES = {
    "nasa_http_1995_1min.csv": 7.0,
    "nab_elb_request_count_5min.csv": 4.0,
    "nab_nyc_taxi_30min.csv": 7.0,
}


def warm_up(name: str) -> None:
    """Fit and predict once on ten synthetic hourly days: imports and compilation happen here, untimed."""
    import numpy as np

    from barberpro.ops.forecasting import make_model

    hours = np.arange(10 * 24)
    y = 100.0 + 50.0 * np.sin(2 * np.pi * hours / 24) + np.random.default_rng(0).normal(0.0, 5.0, len(hours))
    make_model(name).fit(y, 60.0).predict(y, 2)


def main() -> None:
    from barberpro.ops.autoscaling.traces import load_trace
    from barberpro.ops.forecasting import DEFAULT_MODEL, MODELS, hybrid_available, make_model
    from barberpro.ops.forecasting.evaluation import EvaluationSpec, rolling_origin

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/traffic"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--traces", default=",".join(TRACES))
    parser.add_argument(
        "--validation",
        action="store_true",
        help="evaluate on the span of the same length just before the test span (the test span is dropped)",
    )
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m != "prophet_lstm" or hybrid_available()]
    for name in models:
        print(f"warm-up: {name}", file=sys.stderr, flush=True)
        warm_up(name)
    report: dict[str, object] = {"default_model": DEFAULT_MODEL, "validation": args.validation, "traces": {}}
    for trace_file in args.traces.split(","):
        trace = load_trace(Path(args.data_dir) / trace_file)
        spec = EvaluationSpec(test_days=TRACES.get(trace_file, 7.0))
        values = trace.values
        if args.validation:
            values = values[: len(values) - round(spec.test_days * 24 * 60 / trace.step_minutes)]
        per_model: dict[str, dict[str, object]] = {}
        for name in models:
            print(f"{trace.name}: {name}", file=sys.stderr, flush=True)
            per_model[name] = rolling_origin(partial(make_model, name), values, trace.step_minutes, spec)
        summary: dict[str, object] = {}
        base, ours = per_model.get("seasonal_naive_day"), per_model.get(DEFAULT_MODEL)
        if base and ours:
            for key in (k for k in ours if k.startswith("h") and k.endswith("_steps")):
                summary[f"{key}_mase_default"] = ours[key]["mase"]  # type: ignore[index]
                summary[f"{key}_mase_seasonal_naive_day"] = base[key]["mase"]  # type: ignore[index]
                summary[f"{key}_default_beats_naive"] = ours[key]["mase"] < base[key]["mase"]  # type: ignore[index]
        hybrid = per_model.get("prophet_lstm")
        if hybrid and ours:
            summary["speedup_vs_prophet_lstm"] = hybrid["fit_predict_seconds"] / ours["fit_predict_seconds"]  # type: ignore[operator]
        report["traces"][trace.name] = {"models": per_model, "summary": summary}  # type: ignore[index]
        print(json.dumps({trace.name: summary}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
