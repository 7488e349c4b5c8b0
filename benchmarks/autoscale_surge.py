"""Robustness: the frozen default on a dev trace with a 50x traffic surge in the test span.

The demand of the last `--surge-days` days is multiplied by `--factor` (at an
arbitrary minute, not at a day boundary). Capacity stays as in
autoscale_targets.py (mean training demand = 5 replicas), so the surge needs
~50x the replicas. Prints JSON: default, HPA at 70 % and 30 %, static peak,
oracle; steps over capacity during the first hour of the surge and after it; and the
cheapest HPA target (every integer percentage from 10 to 90) within 0.1 % of steps over.

    .venv/bin/python benchmarks/autoscale_surge.py [--trace ../shared/data/traffic/nasa_http_1995_1min.csv]
    [--validation [K]]   # the same surge in the K-th week before the test week (defaults were chosen there)
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import numpy as np

    from barberpro.entrypoints.cli.autoscale import run_policy
    from barberpro.ops.autoscaling import ScalingConfig
    from barberpro.ops.autoscaling.traces import load_trace

    parser = argparse.ArgumentParser()
    parser.add_argument("--trace", default=str(ROOT / "../shared/data/traffic/nasa_http_1995_1min.csv"))
    parser.add_argument("--test-days", type=float, default=7.0)
    parser.add_argument("--surge-days", type=float, default=3.3)
    parser.add_argument("--factor", type=float, default=50.0)
    parser.add_argument("--validation", nargs="?", type=int, const=1, default=0)
    args = parser.parse_args()
    trace = load_trace(args.trace)
    if args.validation:
        cut = args.validation * trace.steps_for_days(args.test_days)
        trace = replace(trace, timestamps=trace.timestamps[:-cut], values=trace.values[:-cut])
    start = len(trace) - trace.steps_for_days(args.test_days)
    surge_at = len(trace) - trace.steps_for_days(args.surge_days)
    values = trace.values.copy()
    values[surge_at:] *= args.factor
    trace = replace(trace, values=values)
    per_step = float(values[:start].mean()) / 5.0
    # No replica ceiling here: the surge needs more than the default 1,000.
    cfg = ScalingConfig(capacity_per_replica_rpm=per_step / trace.step_minutes, max_replicas=100_000)
    hour = max(1, round(60 / trace.step_minutes))
    report: dict[str, object] = {"trace": trace.name, "factor": args.factor, "surge_step": surge_at - start}
    for name, knob in (("default", None), ("hpa", 0.7), ("hpa", 0.3), ("static", None), ("oracle", None)):
        result = run_policy(trace, name, cfg, start, knob)
        over = result.demand > result.ready * result.capacity_per_step
        i = surge_at - start
        s = result.summary
        report[f"{name}{'' if knob is None else f'@{knob}'}"] = {
            "replica_hours": s.replica_hours,
            "steps_over_capacity": s.steps_over_capacity,
            "share_steps_over_capacity": s.share_steps_over_capacity,
            "within_0.1pct": s.share_steps_over_capacity <= cfg.violation_target,
            "scale_actions": s.scale_actions,
            "over_before_surge": int(over[:i].sum()),
            "over_first_hour_of_surge": int(over[i : i + hour].sum()),
            "over_after_first_hour": int(over[i + hour :].sum()),
            "replicas_before_surge_mean": float(np.mean(result.provisioned[:i])),
            "replicas_after_surge_mean": float(np.mean(result.provisioned[i + hour :])),
        }
    # The yardstick of autoscale_targets.py: the cheapest integer HPA target within 0.1 %.
    hpa = {p / 100: run_policy(trace, "hpa", cfg, start, p / 100).summary for p in range(10, 91)}
    meeting = {t: h for t, h in hpa.items() if h.share_steps_over_capacity <= cfg.violation_target}
    if meeting:
        target, cheapest = min(meeting.items(), key=lambda item: item[1].replica_hours)
        default_hours = float(report["default"]["replica_hours"])  # type: ignore[index]
        report["hpa_cheapest_meeting_0.1pct"] = {
            "target_utilisation": target,
            "replica_hours": cheapest.replica_hours,
            "steps_over_capacity": cheapest.steps_over_capacity,
            "default_saving": 1 - default_hours / cheapest.replica_hours,
        }
    else:
        report["hpa_cheapest_meeting_0.1pct"] = "no HPA target utilisation in 10..90 % meets 0.1 %"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
