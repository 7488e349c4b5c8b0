"""Config file loading and trace loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from barberpro.ops.autoscaling import ScalingConfig, default_config, load_config
from barberpro.ops.autoscaling.traces import load_trace


def test_defaults_ship_the_placeholder_capacity() -> None:
    cfg = default_config()
    assert cfg.capacity_per_replica_rpm == 26000.0
    assert cfg.cold_start_minutes == 2.0


def test_file_overrides_defaults_and_rejects_unknown_keys(tmp_path: Path) -> None:
    good = tmp_path / "a.toml"
    good.write_text("[autoscaling]\ncapacity_per_replica_rpm = 50\nmin_replicas = 2\n")
    cfg = load_config(good)
    assert cfg.capacity_per_replica_rpm == 50 and cfg.min_replicas == 2 and cfg.max_replicas == 1000
    bad = tmp_path / "b.toml"
    bad.write_text("[autoscaling]\ncapacity = 5\n")
    with pytest.raises(ValueError, match="unknown"):
        load_config(bad)


@pytest.mark.parametrize(("step", "steps"), [(1.0, 2), (5.0, 1), (30.0, 1), (0.5, 4), (0.75, 3)])
def test_cold_start_rounds_up_to_whole_steps(step: float, steps: int) -> None:
    assert ScalingConfig().cold_start_steps(step) == steps


def test_context_converts_capacity_to_the_trace_step() -> None:
    c = ScalingConfig(capacity_per_replica_rpm=100).context(step_minutes=5.0)
    assert c.capacity_per_step == 500 and c.replicas_for(1001) == 3


def test_trace_gaps_are_filled_on_a_regular_grid(tmp_path: Path) -> None:
    stamps = [f"2024-01-01T00:{m:02d}:00Z" for m in range(60) if m not in (10, 11)]
    path = tmp_path / "t.csv"
    path.write_text("timestamp,rps\n" + "\n".join(f"{s},{i}" for i, s in enumerate(stamps)) + "\n")
    trace = load_trace(path)
    assert len(trace) == 60 and trace.step_minutes == 1.0 and trace.filled_steps == 2
    assert not np.isnan(trace.values).any()


def test_trace_needs_one_value_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("timestamp,a,b\n2024-01-01,1,2\n2024-01-02,1,2\n")
    with pytest.raises(ValueError, match="one numeric column"):
        load_trace(path)
