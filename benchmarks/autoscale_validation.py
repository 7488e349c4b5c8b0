"""How the frozen defaults of the predictive half were chosen: settings x validation spans.

Each dev trace's test span (last 7 days; ELB: last 4) is never used here. The
validation spans are the K-th spans of the same length before it (NASA: the five
weeks 1-3, 5, 6 before the test week, week 4 holding the 38-hour outage is run
and shown apart; ELB: the two 4-day spans before; taxi: six weeks), plus the 50x
surge of benchmarks/autoscale_surge.py placed in the week before the test week.
Every run is the hybrid (predictive + HPA at 80 %, ADR 0203) with one setting changed, the
rest as shipped. Capacity as in autoscale_targets.py (mean training demand = 5
replicas). Prints JSON: per setting, per trace and span, replica-hours, steps
over capacity, scale actions, and the static and oracle yardsticks per span.

    .venv/bin/python benchmarks/autoscale_validation.py     # ~15 min on 2 shared cores
    .venv/bin/python benchmarks/autoscale_validation.py --settings 'tail_weeks=3;peak_allowance=1.0'
    .venv/bin/python benchmarks/autoscale_validation.py --settings 'shipped;forecaster=profile_1h;forecaster=weighted'
    # the runs behind each ADR, with their exact --settings: docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPANS = {
    "nasa_http_1995_1min.csv": (7.0, (1, 2, 3, 4, 5, 6)),
    "nab_elb_request_count_5min.csv": (4.0, (1, 2)),
    "nab_nyc_taxi_30min.csv": (7.0, (1, 2, 3, 4, 5, 6)),
}
# The shipped setting and one step either side of each choice.
SETTINGS = (
    "shipped",
    "tail_weeks=3",
    "tail_weeks=1",
    "peak_allowance=1.0",
    "peak_allowance=1.5",
    "peak_rank=1",
    "peak_rank=3",
    "scale_down_minutes=5",
    "scale_down_minutes=15",
)


def parse(setting: str) -> tuple[str, dict[str, float]]:
    """`key=value,...`: policy settings, `forecaster=NAME` (shipped, profile, profile_1h, weighted,
    weighted_1h, stacked, stacked_gap, stacked_lead_rows,
    stacked_weekly_ratio) and `hpa_target=X` (the hybrid's HPA half)."""
    if setting == "shipped":
        return "shipped", {}
    pairs = [tuple(item.split("=")) for item in setting.split(",")]
    forecaster = next((v.strip() for k, v in pairs if k.strip() == "forecaster"), "shipped")
    return forecaster, {k.strip(): float(v) for k, v in pairs if k.strip() != "forecaster"}


def forecaster_for(name: str, step: float) -> object:
    """The predictive half's forecaster by name (ADR 0202): shipped = default_forecaster."""
    from barberpro.ops.forecasting import DailyProfileForecaster, default_forecaster
    from barberpro.ops.forecasting.select import BacktestWeightedForecaster

    if name == "shipped":
        return default_forecaster(step)
    if name == "profile_1h":
        return DailyProfileForecaster(step, level_minutes=60.0)
    if name == "weighted":
        return BacktestWeightedForecaster(step)
    if name == "stacked":
        from barberpro.ops.forecasting.stacked import StackedProfileForecaster

        return StackedProfileForecaster(step)
    if name == "stacked_gap":
        from barberpro.ops.forecasting.stacked import StackedProfileForecaster

        return StackedProfileForecaster(step, level_gap=True)
    if name == "stacked_lead_rows":
        from barberpro.ops.forecasting.stacked import StackedProfileForecaster

        return StackedProfileForecaster(step, per_lead_rows=True)
    if name == "stacked_weekly_ratio":
        from barberpro.ops.forecasting.stacked import StackedProfileForecaster

        return StackedProfileForecaster(step, weekly_ratio=True)
    if name == "profile":
        return DailyProfileForecaster(step)
    if name == "weighted_1h":
        candidates = {
            "profile": DailyProfileForecaster(step, level_minutes=60.0),
            "profile_weekly": DailyProfileForecaster(step, level_minutes=60.0, weekly_weight=1.0),
            "profile_additive": DailyProfileForecaster(step, level_minutes=60.0, additive=True),
        }
        return BacktestWeightedForecaster(step, dict(candidates))
    raise SystemExit(f"unknown forecaster {name!r}")


def run_setting(values: object, start: int, ctx: object, step: float, setting: str) -> object:
    """The hybrid with one setting changed (see `parse`), warmed up on the history, over the span."""
    from barberpro.ops.autoscaling import HpaPolicy, HybridPolicy, PredictivePolicy, simulate
    from barberpro.ops.autoscaling.factory import HYBRID_HPA_TARGET

    forecaster, overrides = parse(setting)
    hpa_target = overrides.pop("hpa_target", HYBRID_HPA_TARGET)
    if "calibration_scores" in overrides:
        overrides["calibration_scores"] = int(overrides["calibration_scores"])
    predictive = PredictivePolicy(ctx, forecaster_for(forecaster, step), **overrides)  # type: ignore[arg-type]
    policy = HybridPolicy(predictive, HpaPolicy(ctx, hpa_target))  # type: ignore[arg-type]
    policy.warm_up(values[:start])  # type: ignore[index]
    return simulate(values, policy, ctx, start=start).summary  # type: ignore[arg-type]


def main() -> None:
    import numpy as np

    from barberpro.ops.autoscaling import ScalingConfig, simulate
    from barberpro.ops.autoscaling.bounds import oracle_policy
    from barberpro.ops.autoscaling.factory import make_policy
    from barberpro.ops.autoscaling.traces import load_trace

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/traffic"))
    parser.add_argument("--settings", default=";".join(SETTINGS))
    parser.add_argument("--no-surge", action="store_true")
    args = parser.parse_args()

    def prepare(trace_file: str, days: float, k: int, surge: bool) -> tuple[object, np.ndarray, int, object]:
        trace = load_trace(Path(args.data_dir) / trace_file)
        span = trace.steps_for_days(days)
        trace = replace(trace, timestamps=trace.timestamps[: -k * span], values=trace.values[: -k * span])
        values = trace.values.copy()
        start = len(values) - span
        if surge:  # as benchmarks/autoscale_surge.py: x50 over the last 3.3 days
            values[len(values) - trace.steps_for_days(3.3) :] *= 50.0
        per_step = float(values[:start].mean()) / 5.0
        cfg = ScalingConfig(
            capacity_per_replica_rpm=per_step / trace.step_minutes, max_replicas=100_000 if surge else 1000
        )
        return trace, values, start, cfg.context(trace.step_minutes)

    def brief(summary: object) -> list[float]:
        s = summary
        return [round(s.replica_hours, 1), s.steps_over_capacity, s.scale_actions]  # type: ignore[attr-defined]

    runs = [(f, d, k, False) for f, (d, ks) in SPANS.items() for k in ks]
    if not args.no_surge:
        runs.append(("nasa_http_1995_1min.csv", 7.0, 1, True))
    report: dict[str, object] = {"columns": ["replica_hours", "steps_over_capacity", "scale_actions"]}
    yardsticks: dict[str, object] = {}
    for trace_file, days, k, surge in runs:
        trace, values, start, ctx = prepare(trace_file, days, k, surge)
        label = f"{trace.name}{'+surge' if surge else ''}@span-{k}"  # type: ignore[attr-defined]
        static = make_policy("static", ctx, training=values[:start])  # type: ignore[arg-type]
        yardsticks[label] = {
            "static_peak": brief(simulate(values, static, ctx, start=start).summary),  # type: ignore[arg-type]
            "oracle": brief(simulate(values, oracle_policy(values[start:], ctx, start), ctx, start=start).summary),  # type: ignore[arg-type]
        }
        for setting in args.settings.split(";"):
            summary = run_setting(values, start, ctx, trace.step_minutes, setting)  # type: ignore[attr-defined]
            report.setdefault(setting, {})[label] = brief(summary)  # type: ignore[index]
            print(f"{setting} {label} {brief(summary)}", file=sys.stderr, flush=True)
    report["yardsticks"] = yardsticks
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
