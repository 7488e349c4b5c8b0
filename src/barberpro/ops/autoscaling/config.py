"""Simulator and policy parameters, read from a TOML file.

The shipped defaults live in `defaults.toml` beside this module. Capacity per
replica there is a placeholder, to be replaced by the measured BarberPro API
throughput per worker at the latency SLO.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from barberpro.ops.autoscaling.policies import ScalingContext


@dataclass(frozen=True)
class ScalingConfig:
    """What the simulator and every policy need to know about the service."""

    # Requests per minute one replica serves within the latency SLO.
    capacity_per_replica_rpm: float = 2000.0
    # Time from ordering a replica to it serving traffic.
    cold_start_minutes: float = 2.0
    min_replicas: int = 1
    max_replicas: int = 1000
    # Highest share of steps allowed above capacity (the SLO the predictive policy aims at).
    violation_target: float = 0.001

    def __post_init__(self) -> None:
        if self.capacity_per_replica_rpm <= 0:
            raise ValueError("capacity_per_replica_rpm must be positive")
        if self.cold_start_minutes < 0:
            raise ValueError("cold_start_minutes must not be negative")
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError("need 1 <= min_replicas <= max_replicas")
        if not 0 < self.violation_target < 1:
            raise ValueError("violation_target must be in (0, 1)")

    def capacity_per_step(self, step_minutes: float) -> float:
        """Requests one replica serves in one step of the trace."""
        return self.capacity_per_replica_rpm * step_minutes

    def cold_start_steps(self, step_minutes: float) -> int:
        """Cold start rounded up to whole steps (a replica ordered at step t serves from t + this)."""
        return math.ceil(self.cold_start_minutes / step_minutes - 1e-9)

    def with_overrides(self, **overrides: Any) -> ScalingConfig:
        return replace(self, **overrides)

    def context(self, step_minutes: float) -> ScalingContext:
        """Per-step units for a demand series sampled every `step_minutes`."""
        return ScalingContext(
            capacity_per_step=self.capacity_per_step(step_minutes),
            cold_start_steps=self.cold_start_steps(step_minutes),
            step_minutes=step_minutes,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            violation_target=self.violation_target,
        )


def default_config() -> ScalingConfig:
    """The shipped defaults (`defaults.toml` in this package)."""
    text = resources.files(__package__).joinpath("defaults.toml").read_text(encoding="utf-8")
    return _from_mapping(tomllib.loads(text))


def load_config(path: str | Path | None) -> ScalingConfig:
    """Defaults, overridden by the `[autoscaling]` table (or top level) of a TOML file."""
    base = default_config()
    if path is None:
        return base
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    merged = {f.name: getattr(base, f.name) for f in fields(ScalingConfig)}
    merged.update(data.get("autoscaling", data))
    return _from_mapping(merged)


def _from_mapping(data: dict[str, Any]) -> ScalingConfig:
    table = data.get("autoscaling", data)
    known = {f.name for f in fields(ScalingConfig)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"unknown autoscaling settings: {sorted(unknown)}")
    return ScalingConfig(**table)
