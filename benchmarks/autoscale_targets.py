"""The autoscaling targets of issue 6, per dev trace, with every yardstick in the same run.

Per trace at its native step: cold start 2 minutes rounded up to whole steps,
at least 1 replica, test = last 7 days (ELB: last 4), everything before is
history (training). Capacity per replica is set per trace so that the mean
training demand needs 5 replicas (the traces are public logs, not BarberPro
traffic; the ratio, not the absolute figure, is what the targets are about).

Prints JSON per trace: oracle, clairvoyant-rate bound (at <= 0.1 % and at the
default's own violation level), the default policy, predictive alone, the HPA
sweep and its cheapest setting meeting 0.1 %, static at training peak, and the
target checks. With --charts DIR it also draws the Pareto chart per trace.

    .venv/bin/python benchmarks/autoscale_targets.py [--data-dir ../shared/data/traffic] [--charts DIR]
    [--validation [K]]   # the K-th span before the test span instead (K = 1 if omitted; defaults were chosen on these)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACES = {
    "nasa_http_1995_1min.csv": 7.0,
    "nab_elb_request_count_5min.csv": 4.0,
    "nab_nyc_taxi_30min.csv": 7.0,
}
# Every target utilisation Kubernetes accepts in 10 .. 90 %: `averageUtilization` is an
# integer percentage. (A 5-point grid, used until the 2026-11-29 correction, missed the
# cheapest setting meeting 0.1 % on NASA, 33 %, and overstated the default's saving.)
HPA_TARGETS = tuple(round(p / 100, 2) for p in range(10, 91))


# Short chart names: the charts are committed, the traces they come from are not.
CHART_NAMES = {"nasa_http_1995_1min": "nasa", "nab_elb_request_count_5min": "elb", "nab_nyc_taxi_30min": "taxi"}


def misses(trace: object, start: int, default: object, others: dict[str, object]) -> list[dict[str, object]]:
    """The default's steps over capacity: demand and ready replicas, the training peak, who else misses."""
    import numpy as np

    def over(r: object) -> np.ndarray:
        return np.asarray(r.demand > r.ready * r.capacity_per_step + 1e-9)  # type: ignore[attr-defined]

    cap = default.capacity_per_step  # type: ignore[attr-defined]
    values = trace.values  # type: ignore[attr-defined]
    peak = float(np.max(values[:start])) / cap
    rows = []
    for i in np.flatnonzero(over(default)):
        also = [name for name, r in others.items() if over(r)[i]]
        rows.append(
            {
                "step": int(i),
                "timestamp": str(trace.timestamps[start + i]),  # type: ignore[attr-defined]
                "demand_replicas": float(values[start + i] / cap),
                "ready_replicas": int(default.ready[i]),  # type: ignore[attr-defined]
                "previous_step_demand_replicas": float(values[start + i - 1] / cap),
                "training_peak_replicas": peak,
                "also_missed_by": also,
                "caught_by": [name for name in others if name not in also],
            }
        )
    return rows


def evaluate(
    trace_file: Path, test_days: float, *, validation: int = 0, charts: str = ""
) -> tuple[str, dict[str, object]]:
    """One trace: every policy and yardstick on its test span (or the `validation`-th span before it)."""
    from dataclasses import replace

    from barberpro.entrypoints.cli.autoscale import draw_pareto, run_policy, sweep
    from barberpro.ops.autoscaling import ScalingConfig
    from barberpro.ops.autoscaling.bounds import clairvoyant_bound
    from barberpro.ops.autoscaling.traces import load_trace

    trace = load_trace(trace_file)
    test_steps = trace.steps_for_days(test_days)
    if validation:  # drop K test spans: the K-th span before the test becomes the test
        cut = validation * test_steps
        trace = replace(trace, timestamps=trace.timestamps[:-cut], values=trace.values[:-cut])
    start = len(trace) - test_steps
    per_step = float(trace.values[:start].mean()) / 5.0
    cfg = ScalingConfig(capacity_per_replica_rpm=per_step / trace.step_minutes)
    target = cfg.violation_target
    ctx = cfg.context(trace.step_minutes)
    print(f"{trace.name}: policies", file=sys.stderr, flush=True)

    def brief(s: object) -> dict[str, float]:
        d = s.as_dict()  # type: ignore[attr-defined]
        keep = ("replica_hours", "steps_over_capacity", "share_steps_over_capacity", "scale_actions")
        return {k: d[k] for k in keep}

    oracle = run_policy(trace, "oracle", cfg, start).summary
    default_run = run_policy(trace, "default", cfg, start)
    default = default_run.summary
    predictive_run = run_policy(trace, "predictive", cfg, start)
    predictive = predictive_run.summary
    static_run = run_policy(trace, "static", cfg, start)
    static = static_run.summary
    cb = clairvoyant_bound(trace.values, ctx, start, target)
    cb_same = clairvoyant_bound(trace.values, ctx, start, default.share_steps_over_capacity)
    hpa_runs = {t: run_policy(trace, "hpa", cfg, start, t) for t in HPA_TARGETS}
    hpa = {t: r.summary for t, r in hpa_runs.items()}
    meeting = [s for s in hpa.values() if s.share_steps_over_capacity <= target]
    cheapest = min(meeting, key=lambda s: s.replica_hours) if meeting else None
    cheapest_target = next((t for t, s in hpa.items() if s is cheapest), None)
    ok = default.share_steps_over_capacity <= target
    checks = {
        "default_violations_within_0.1pct": ok,
        "default_over_clairvoyant_at_0.1pct": default.replica_hours / cb.result.summary.replica_hours,
        "default_over_clairvoyant_at_same_level": default.replica_hours / cb_same.result.summary.replica_hours,
        "saving_vs_cheapest_hpa_meeting_0.1pct": (
            1 - default.replica_hours / cheapest.replica_hours if cheapest else None
        ),
        "saving_vs_static_peak": 1 - default.replica_hours / static.replica_hours,
        "default_violations_le_static": default.steps_over_capacity <= static.steps_over_capacity,
    }
    checks["meets_1.15x_clairvoyant"] = ok and checks["default_over_clairvoyant_at_same_level"] <= 1.15
    checks["meets_25pct_vs_hpa"] = ok and (cheapest is None or checks["saving_vs_cheapest_hpa_meeting_0.1pct"] >= 0.25)
    checks["meets_47pct_vs_static"] = checks["saving_vs_static_peak"] >= 0.47 and checks["default_violations_le_static"]
    entry: dict[str, object] = {
        "steps": len(trace) - start,
        "step_minutes": trace.step_minutes,
        "cold_start_steps": ctx.cold_start_steps,
        "capacity_per_replica_per_step": per_step,
        "oracle": brief(oracle),
        "clairvoyant_at_0.1pct": brief(cb.result.summary) | {"headroom": cb.headroom},
        "clairvoyant_at_default_level": brief(cb_same.result.summary) | {"headroom": cb_same.headroom},
        "default": brief(default) | {"policy": default.policy},
        "predictive_alone": brief(predictive),
        "static_peak": brief(static),
        "hpa_sweep": {str(t): brief(s) for t, s in hpa.items()},
        "hpa_cheapest_meeting_0.1pct": ({"target_utilisation": cheapest_target} | brief(cheapest))
        if cheapest
        else "no HPA target utilisation in 10..90 % meets 0.1 %",
        "checks": checks,
        # Every step the default misses, and which other policies miss it too: a step that
        # every causal policy misses (even HPA at 10 %) is beyond any causal forecaster.
        "default_misses": misses(
            trace,
            start,
            default_run,
            {"static_peak": static_run, "predictive_alone": predictive_run, "clairvoyant": cb.result}
            | {f"hpa@{t}": r for t, r in hpa_runs.items()},
        ),
    }
    if charts:
        print(f"{trace.name}: Pareto sweep", file=sys.stderr, flush=True)
        points = sweep(trace, cfg, start, ("static", "predictive", "hybrid", "clairvoyant"))
        # HPA's curve from the runs above: every integer target, the cheapest meeting 0.1 % among them.
        points["hpa"] = [{"knob": t} | brief(s) for t, s in hpa.items()]
        points["oracle"] = [{"knob": float("nan")} | brief(oracle)]
        marks = {"default": brief(default)}
        suffix = "_validation" if validation else ""
        for ext in ("png", "svg"):
            out = Path(charts) / f"pareto_{CHART_NAMES.get(trace.name, trace.name)}{suffix}.{ext}"
            out.parent.mkdir(parents=True, exist_ok=True)
            draw_pareto(points, f"{trace.name}: cost vs steps over capacity", target, out, marks)
        entry["pareto_points"] = points
    return trace.name, entry


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/traffic"))
    parser.add_argument("--traces", default=",".join(TRACES))
    parser.add_argument("--charts", default="")
    parser.add_argument("--validation", nargs="?", type=int, const=1, default=0)
    args = parser.parse_args()
    report: dict[str, object] = {}
    for trace_file in args.traces.split(","):
        days = TRACES.get(trace_file, 7.0)
        name, entry = evaluate(Path(args.data_dir) / trace_file, days, validation=args.validation, charts=args.charts)
        report[name] = entry
        print(json.dumps({name: entry["checks"]}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
