"""`barberpro autoscale simulate` and `pareto` end to end on a small synthetic trace."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from barberpro.entrypoints.cli.main import app


def write_trace(path: Path, days: int = 9) -> None:
    steps = days * 288
    t = np.arange(steps)
    demand = np.random.default_rng(0).poisson(300 * (1.2 + np.sin(2 * np.pi * t / 288)))
    stamps = pd.date_range("2024-03-01", periods=steps, freq="5min", tz="UTC")
    pd.DataFrame({"timestamp": stamps, "requests": demand}).to_csv(path, index=False)


def test_simulate_writes_rows_that_reproduce_the_summary(tmp_path: Path) -> None:
    trace, out, cfg = tmp_path / "trace.csv", tmp_path / "rows.csv", tmp_path / "c.toml"
    write_trace(trace)
    cfg.write_text("[autoscaling]\ncapacity_per_replica_rpm = 10\n")
    args = ["autoscale", "simulate", "--trace", str(trace), "--policy", "default"]
    result = CliRunner().invoke(app, [*args, "--config", str(cfg), "--out", str(out), "--test-days", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    rows = pd.read_csv(out)
    assert list(rows.columns) == [
        "timestamp",
        "demand",
        "capacity_per_replica",
        "replicas_provisioned",
        "replicas_ready",
    ]
    assert len(rows) == 2 * 288 == summary["steps"]
    over = rows.demand > rows.capacity_per_replica * rows.replicas_ready
    assert int(over.sum()) == summary["steps_over_capacity"]
    assert rows.replicas_provisioned.sum() * 5 / 60 == summary["replica_hours"]
    assert (rows.replicas_ready <= rows.replicas_provisioned).all()


def test_pareto_draws_a_chart(tmp_path: Path) -> None:
    trace, chart, cfg = tmp_path / "trace.csv", tmp_path / "p.svg", tmp_path / "c.toml"
    write_trace(trace)
    cfg.write_text("[autoscaling]\ncapacity_per_replica_rpm = 10\n")
    args = ["autoscale", "pareto", "--trace", str(trace), "--config", str(cfg), "--out", str(chart)]
    result = CliRunner().invoke(app, [*args, "--test-days", "1", "--policies", "hpa,hybrid"])
    assert result.exit_code == 0, result.output
    assert chart.read_text().lstrip().startswith("<?xml")
    points = json.loads(result.stdout)["points"]
    assert {"hpa", "hybrid", "oracle"} <= set(points)


def test_unknown_policy_is_refused(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    write_trace(trace, days=2)
    result = CliRunner().invoke(app, ["autoscale", "simulate", "--trace", str(trace), "--policy", "magic"])
    assert result.exit_code != 0


def test_help_names_the_config_table() -> None:
    # Rich would read "[autoscaling]" as markup and drop it from the help.
    for command in ("simulate", "pareto"):
        result = CliRunner().invoke(app, ["autoscale", command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "[autoscaling] table" in result.output
