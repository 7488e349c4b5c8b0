"""Which part of the default (hybrid) policy sets provisioning, step by step, on the validation spans.

The spans are those of benchmarks/autoscale_validation.py (never the test
spans). At every simulated step the hybrid's decision is attributed to one part:
the HPA half (strictly above the predictive half), else the predictive half's
scale-down hold, its peak cap (1.25 x the week's second-highest step) or the
forecast plus its calibrated margin. Prints JSON per span: the share of steps
each part set, the share where the HPA half ties the predictive one, the
replica-steps the HPA half and the hold add on top (share of all provisioned),
the calibrated quantile q (median, min, max), the steps where the HPA half set
provisioning after a falling step, and by hour of day.

    .venv/bin/python benchmarks/autoscale_diagnosis.py [--hpa-target 0.7]   # ~4 min on 2 shared cores
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPANS = {
    "nasa_http_1995_1min.csv": (7.0, (1, 2, 3, 4, 5, 6)),
    "nab_elb_request_count_5min.csv": (4.0, (1, 2)),
    "nab_nyc_taxi_30min.csv": (7.0, (1, 2, 3, 4, 5, 6)),
}


class PartsRecorder:
    """Runs the hybrid and counts, per step, which part set its decision."""

    name = "hybrid"

    def __init__(self, policy: Any, timestamps: Any) -> None:
        self.policy = policy
        self.timestamps = timestamps
        self.parts: Counter[str] = Counter()
        self.hpa_hours: Counter[int] = Counter()
        self.quantiles: list[float] = []
        self.ties = self.hpa_adds = self.hold_adds = self.provisioned = self.hpa_after_fall = 0

    def decide(self, history: Any, state: Any) -> int:
        decision = int(self.policy.decide(history, state))
        predictive = self.policy.predictive.last_decision
        reactive = self.policy.last_reactive
        self.provisioned += decision
        if reactive > predictive.held:
            self.parts["hpa"] += 1
            self.hpa_adds += reactive - predictive.held
            self.hpa_hours[self.timestamps[len(history)].hour] += 1
            self.hpa_after_fall += int(len(history) >= 2 and history[-1] < history[-2])
        else:
            self.ties += int(reactive == predictive.held)
            self.parts[predictive.part] += 1
            self.hold_adds += predictive.held - predictive.wanted
        self.quantiles.append(self.policy.predictive.quantile_score())
        return decision


def main() -> None:
    import numpy as np

    from barberpro.ops.autoscaling import HpaPolicy, HybridPolicy, PredictivePolicy, ScalingConfig, simulate
    from barberpro.ops.autoscaling.factory import HYBRID_HPA_TARGET
    from barberpro.ops.autoscaling.traces import load_trace
    from barberpro.ops.forecasting import default_forecaster

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT / "../shared/data/traffic"))
    parser.add_argument("--hpa-target", type=float, default=HYBRID_HPA_TARGET)
    args = parser.parse_args()

    runs = [(f, d, k, False) for f, (d, ks) in SPANS.items() for k in ks]
    runs.append(("nasa_http_1995_1min.csv", 7.0, 1, True))
    report: dict[str, object] = {"hpa_target": args.hpa_target}
    for trace_file, days, k, surge in runs:
        # The spans and capacity of autoscale_validation.py.
        trace = load_trace(Path(args.data_dir) / trace_file)
        span = trace.steps_for_days(days)
        trace = replace(trace, timestamps=trace.timestamps[: -k * span], values=trace.values[: -k * span])
        values = trace.values.copy()
        start = len(values) - span
        if surge:
            values[len(values) - trace.steps_for_days(3.3) :] *= 50.0
        per_step = float(values[:start].mean()) / 5.0
        cfg = ScalingConfig(
            capacity_per_replica_rpm=per_step / trace.step_minutes, max_replicas=100_000 if surge else 1000
        )
        ctx = cfg.context(trace.step_minutes)
        predictive = PredictivePolicy(ctx, default_forecaster(trace.step_minutes))
        policy = HybridPolicy(predictive, HpaPolicy(ctx, args.hpa_target))
        policy.warm_up(values[:start])

        recorder = PartsRecorder(policy, trace.timestamps)
        result = simulate(values, recorder, ctx, start=start)  # type: ignore[arg-type]
        steps = len(values) - start
        r = recorder
        label = f"{trace.name}{'+surge' if surge else ''}@span-{k}"
        report[label] = {
            "steps": steps,
            "share_set_by": {p: round(r.parts[p] / steps, 3) for p in ("hpa", "hold", "cap", "forecast+margin")},
            "share_hpa_ties_predictive": round(r.ties / steps, 3),
            "replica_steps_added_by_hpa": round(r.hpa_adds / r.provisioned, 4),
            "replica_steps_added_by_hold": round(r.hold_adds / r.provisioned, 4),
            "hpa_set_after_a_falling_step": r.hpa_after_fall,
            "hpa_set_by_hour": dict(sorted(r.hpa_hours.items())),
            "q": [round(float(np.median(r.quantiles)), 2), round(min(r.quantiles), 2), round(max(r.quantiles), 2)],
            "replica_hours": round(result.summary.replica_hours, 1),
            "steps_over_capacity": result.summary.steps_over_capacity,
        }
        print(label, json.dumps(report[label]), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
