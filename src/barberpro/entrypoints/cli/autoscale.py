"""`barberpro autoscale ...`: simulate a policy on a demand trace, and draw the cost/violation Pareto chart.

Wires the default forecaster (`ops.forecasting`) into the predictive policies
(`ops.autoscaling`), which do not import each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from barberpro.ops.autoscaling import ScalingConfig, SimulationResult
    from barberpro.ops.autoscaling.traces import Trace

app = typer.Typer(help="Autoscaling: simulate policies on demand traces, Pareto charts.", no_args_is_help=True)

POLICIES = ("default", "static", "hpa", "predictive", "hybrid", "oracle", "clairvoyant")
# Knob values swept for the Pareto chart, per policy.
SWEEPS: dict[str, tuple[float, ...]] = {
    "static": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2),
    "hpa": (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "predictive": (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.6),
    "hybrid": (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.6),
    "clairvoyant": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
}


def split_start(trace: Trace, test_days: float) -> int:
    """Index of the first simulated step: the last `test_days` (0 = the whole trace)."""
    if test_days <= 0:
        return 0
    return max(0, len(trace) - trace.steps_for_days(test_days))


def run_policy(
    trace: Trace,
    name: str,
    config: ScalingConfig,
    start: int,
    knob: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate one policy over steps `start..` of the trace; earlier steps are its history."""
    from barberpro.ops.autoscaling import make_policy, simulate
    from barberpro.ops.autoscaling.bounds import clairvoyant_bound, clairvoyant_policy, oracle_policy
    from barberpro.ops.forecasting import default_forecaster

    ctx = config.context(trace.step_minutes)
    demand = trace.values
    if name == "oracle":
        return simulate(demand, oracle_policy(demand[start:], ctx, start), ctx, start=start)
    if name == "clairvoyant":
        if knob is None:
            return clairvoyant_bound(demand, ctx, start, config.violation_target).result
        return simulate(demand, clairvoyant_policy(demand[start:], ctx, start, knob), ctx, start=start)
    # The static policy provisions for the peak of what came before the simulated span
    # (the whole trace when there is nothing before it).
    training = demand[:start] if start > 0 else demand
    policy = make_policy(name, ctx, forecaster=default_forecaster(trace.step_minutes), training=training, knob=knob)
    policy.warm_up(demand[:start])
    return simulate(demand, policy, ctx, start=start, on_progress=on_progress)


def rows_frame(trace: Trace, start: int, result: SimulationResult) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "timestamp": trace.timestamps[start:].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "demand": result.demand,
            "capacity_per_replica": result.capacity_per_step,
            "replicas_provisioned": result.provisioned,
            "replicas_ready": result.ready,
        }
    )


@app.command()
def simulate(
    trace: Annotated[Path, typer.Option(help="CSV: timestamp and one numeric column (requests per step).")],
    policy: Annotated[str, typer.Option(help=f"One of: {', '.join(POLICIES)}.")] = "default",
    out: Annotated[Path, typer.Option(help="Per-step rows are written here (CSV).")] = Path("simulation.csv"),
    config: Annotated[Path | None, typer.Option(help="TOML with an \\[autoscaling] table.")] = None,
    test_days: Annotated[
        float, typer.Option(help="Simulate only the last N days; earlier steps are history. 0 = all.")
    ] = 0.0,
    knob: Annotated[float | None, typer.Option(help="Policy setting (HPA target, headroom scale...).")] = None,
) -> None:
    """Replay a trace against a policy; write one row per step and print the summary as JSON.

    Columns: timestamp, demand, capacity_per_replica (requests per step, the same unit
    as demand), replicas_provisioned (paid for), replicas_ready (serving). A step is
    over capacity when demand > capacity_per_replica x replicas_ready.
    """
    from rich.console import Console
    from rich.progress import Progress

    from barberpro.ops.autoscaling import load_config
    from barberpro.ops.autoscaling.traces import load_trace

    if policy not in POLICIES:
        raise typer.BadParameter(f"choose one of {', '.join(POLICIES)}", param_hint="--policy")
    cfg = load_config(config)
    data = load_trace(trace)
    start = split_start(data, test_days)
    # Progress goes to stderr so stdout stays pure JSON.
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"simulating {policy}", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = run_policy(data, policy, cfg, start, knob, on_progress)
    rows_frame(data, start, result).to_csv(out, index=False)
    summary = result.summary.as_dict() | {
        "policy_requested": policy,
        "trace": str(trace),
        "first_step": str(data.timestamps[start]),
        "steps_filled_in_trace": data.filled_steps,
        "config": {k: v for k, v in vars(cfg).items()},
        "rows": str(out),
    }
    typer.echo(json.dumps(summary, indent=2, default=float))


def sweep(
    trace: Trace, config: ScalingConfig, start: int, policies: tuple[str, ...], progress: Any = None
) -> dict[str, list[dict[str, float]]]:
    """Cost and violations for each policy across its knob values (the Pareto points)."""
    points: dict[str, list[dict[str, float]]] = {}
    jobs = [(p, k) for p in policies for k in (SWEEPS.get(p) or (None,))]
    task = progress.add_task("simulating", total=len(jobs)) if progress is not None else None
    for name, knob in jobs:
        s = run_policy(trace, name, config, start, knob).summary
        points.setdefault(name, []).append(
            {
                "knob": float("nan") if knob is None else knob,
                "replica_hours": s.replica_hours,
                "share_steps_over_capacity": s.share_steps_over_capacity,
                "steps_over_capacity": s.steps_over_capacity,
            }
        )
        if progress is not None:
            progress.advance(task)
    return points


def draw_pareto(
    points: dict[str, list[dict[str, float]]], title: str, target: float, out: Path, marks: dict[str, Any]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {"hpa": "s-", "predictive": "^-", "hybrid": "o-", "static": "D-", "clairvoyant": "v--", "oracle": "*"}
    for name, pts in points.items():
        pts = sorted(pts, key=lambda p: p["replica_hours"])
        # A small floor so zero-violation points show on the log axis.
        xs = [max(p["share_steps_over_capacity"] * 100, 1e-3) for p in pts]
        # A dense sweep (every integer HPA target) gets small markers so the curve stays readable.
        size = 6 if len(pts) <= 20 else 3
        ax.plot(xs, [p["replica_hours"] for p in pts], styles.get(name, "x-"), label=name, ms=size)
    for label, p in marks.items():
        x = max(p["share_steps_over_capacity"] * 100, 1e-3)
        ax.plot([x], [p["replica_hours"]], "k*", ms=16)
        ax.annotate(label, (x, p["replica_hours"]), textcoords="offset points", xytext=(6, 6))
    ax.axvline(target * 100, color="grey", ls=":", label=f"target {target * 100:g} %")
    ax.set_xscale("log")
    ax.set_xlabel("steps over capacity, % (log; 0 drawn at 0.001 %)")
    ax.set_ylabel("replica-hours")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


@app.command()
def pareto(
    trace: Annotated[Path, typer.Option(help="CSV: timestamp and one numeric column.")],
    out: Annotated[Path, typer.Option(help="Chart file, .png or .svg.")] = Path("pareto.png"),
    config: Annotated[Path | None, typer.Option(help="TOML with an \\[autoscaling] table.")] = None,
    test_days: Annotated[float, typer.Option(help="Simulate the last N days (0 = all).")] = 7.0,
    policies: Annotated[str, typer.Option(help="Comma-separated.")] = "static,hpa,predictive,hybrid,clairvoyant",
) -> None:
    """Sweep each policy's knob; chart replica-hours against steps over capacity; print the points."""
    from rich.console import Console
    from rich.progress import Progress

    from barberpro.ops.autoscaling import load_config
    from barberpro.ops.autoscaling.traces import load_trace

    cfg = load_config(config)
    data = load_trace(trace)
    start = split_start(data, test_days)
    # Progress goes to stderr so stdout stays pure JSON.
    with Progress(console=Console(stderr=True)) as progress:
        points = sweep(data, cfg, start, tuple(policies.split(",")), progress)
        oracle = run_policy(data, "oracle", cfg, start).summary
        default = run_policy(data, "default", cfg, start).summary
    points["oracle"] = [
        {
            "knob": float("nan"),
            "replica_hours": oracle.replica_hours,
            "share_steps_over_capacity": oracle.share_steps_over_capacity,
            "steps_over_capacity": oracle.steps_over_capacity,
        }
    ]
    marks = {
        "default": {
            "replica_hours": default.replica_hours,
            "share_steps_over_capacity": default.share_steps_over_capacity,
        }
    }
    draw_pareto(points, f"{data.name}: cost vs SLO violations", cfg.violation_target, out, marks)
    typer.echo(json.dumps({"chart": str(out), "points": points, "default": marks["default"]}, indent=1))
