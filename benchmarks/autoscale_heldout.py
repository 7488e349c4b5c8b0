"""The frozen default on traces no autoscaling setting was ever chosen on.

Every setting of the policy was chosen on the validation spans of the three dev
traces (benchmarks/autoscale_validation.py). This runs the same frozen default,
unchanged, on other demand-like count series, with the same protocol and the
same yardsticks as benchmarks/autoscale_targets.py: native step, cold start
2 minutes rounded up to whole steps, test = last 7 days, capacity per replica
so that the mean training demand needs 5 replicas; oracle, clairvoyant-rate
bound, HPA at every integer target from 10 to 90 %, static at training peak, all in the same run.

Default set: NAB's ten Twitter mention-volume series (5-minute counts over about
two months; bursts when a company is in the news), which stand in for traffic
we have not seen. Prints JSON: per trace the checks of autoscale_targets.py and
the figures behind them, then how many traces meet each target and the medians.

    .venv/bin/python benchmarks/autoscale_heldout.py [--data-dir ../shared/data/anomaly/nab-dev/data/realTweets]

With --settings it instead runs the hybrid with one policy setting changed per
entry (as benchmarks/autoscale_validation.py does) on the weeks *before* each
series' test week (--spans, default 1,2,3) and prints replica-hours and steps
over capacity per series and week, and the totals per setting:

    .venv/bin/python benchmarks/autoscale_heldout.py --settings 'shipped;peak_rank=10;tail_weeks=1;record_days=28'
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from autoscale_targets import evaluate

ROOT = Path(__file__).resolve().parents[1]
CHECKS = (
    "default_violations_within_0.1pct",
    "meets_1.15x_clairvoyant",
    "meets_25pct_vs_hpa",
    "meets_47pct_vs_static",
)


def settings_on_earlier_weeks(files: list[Path], settings: list[str], spans: list[int], days: float) -> None:
    """The hybrid with one setting changed, on the K-th week before each series' test week."""
    from dataclasses import replace

    from autoscale_validation import run_setting
    from barberpro.ops.autoscaling import ScalingConfig
    from barberpro.ops.autoscaling.traces import load_trace

    rows: dict[str, dict[str, list[float]]] = {setting: {} for setting in settings}
    allowed: dict[str, float] = {}  # steps over capacity within 0.1 % of each week
    for path in files:
        whole = load_trace(path)
        span = whole.steps_for_days(days)
        for k in spans:
            end = len(whole) - k * span
            trace = replace(whole, timestamps=whole.timestamps[:end], values=whole.values[:end])
            start = end - span
            if start < 2 * span:  # too little history before this week
                continue
            label = f"{trace.name}@span-{k}"
            allowed[label] = 0.001 * span
            per_step = float(trace.values[:start].mean()) / 5.0
            ctx = ScalingConfig(capacity_per_replica_rpm=per_step / trace.step_minutes).context(trace.step_minutes)
            for setting in settings:
                s = run_setting(trace.values, start, ctx, trace.step_minutes, setting)
                rows[setting][label] = [round(s.replica_hours, 1), s.steps_over_capacity]  # type: ignore[attr-defined]
                print(setting, label, rows[setting][label], file=sys.stderr, flush=True)
    totals = {
        setting: {
            "replica_hours": round(sum(r[0] for r in per.values()), 1),
            "steps_over_capacity": sum(int(r[1]) for r in per.values()),
            "weeks_over_0.1pct": sum(r[1] > allowed[label] for label, r in per.items()),
            "weeks": len(per),
        }
        for setting, per in rows.items()
    }
    print(json.dumps({"totals": totals, "per_week": rows}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/anomaly/nab-dev/data/realTweets"))
    parser.add_argument("--test-days", type=float, default=7.0)
    parser.add_argument("--settings", default="")
    parser.add_argument("--spans", default="1,2,3")
    args = parser.parse_args()
    files = sorted(Path(args.data_dir).glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV traces under {args.data_dir}")
    if args.settings:
        spans = [int(k) for k in args.spans.split(",")]
        settings_on_earlier_weeks(files, args.settings.split(";"), spans, args.test_days)
        return
    per_trace: dict[str, object] = {}
    for path in files:
        name, entry = evaluate(path, args.test_days)
        checks = entry["checks"]
        cheapest = entry["hpa_cheapest_meeting_0.1pct"]
        per_trace[name] = {
            "steps": entry["steps"],
            "default": entry["default"],
            "oracle": entry["oracle"],
            "clairvoyant_at_default_level": entry["clairvoyant_at_default_level"],
            "static_peak": entry["static_peak"],
            "hpa_cheapest_meeting_0.1pct": cheapest,
            "checks": checks,
        }
        print(json.dumps({name: checks}, default=float), file=sys.stderr, flush=True)

    def figures(key: str) -> list[float]:
        return [float(t["checks"][key]) for t in per_trace.values() if t["checks"][key] is not None]  # type: ignore[index]

    summary: dict[str, object] = {"traces": len(per_trace)}
    for check in CHECKS:
        summary[check] = sum(bool(t["checks"][check]) for t in per_trace.values())  # type: ignore[index]
    for key in (
        "default_over_clairvoyant_at_same_level",
        "saving_vs_cheapest_hpa_meeting_0.1pct",
        "saving_vs_static_peak",
    ):
        values = figures(key)
        summary[f"median_{key}"] = statistics.median(values) if values else None
    summary["steps_over_capacity"] = {
        name: t["default"]["steps_over_capacity"]  # type: ignore[index]
        for name, t in per_trace.items()
    }
    print(json.dumps({"summary": summary, "per_trace": per_trace}, indent=1, default=float))


if __name__ == "__main__":
    main()
