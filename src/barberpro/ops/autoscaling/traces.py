"""Demand traces: a CSV of `timestamp` and one numeric column (requests per step)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Trace:
    name: str
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    step_minutes: float
    filled_steps: int  # steps that were missing from the file and filled in

    def __len__(self) -> int:
        return len(self.values)

    def steps_for_days(self, days: float) -> int:
        return round(days * 24 * 60 / self.step_minutes)


def load_trace(path: str | Path) -> Trace:
    """Read a trace and put it on a regular grid.

    Missing steps are filled so seasonal models keep their phase: a short hole
    (up to an hour) by linear interpolation, a longer one (NASA's four missing
    days) with the values one week earlier, else one day earlier.
    """
    import pandas as pd

    frame = pd.read_csv(path)
    if "timestamp" not in frame.columns:
        raise ValueError(f"{path}: needs a 'timestamp' column")
    numeric = [c for c in frame.columns if c != "timestamp"]
    if len(numeric) != 1:
        raise ValueError(f"{path}: needs exactly one numeric column besides 'timestamp', got {numeric}")
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    series = pd.Series(pd.to_numeric(frame[numeric[0]], errors="coerce").to_numpy(float), index=stamps)
    series = series[~series.index.duplicated(keep="first")].sort_index()
    if len(series) < 2:
        raise ValueError(f"{path}: needs at least two rows")
    step = series.index.to_series().diff().dropna().mode().iloc[0]
    grid = pd.date_range(series.index[0], series.index[-1], freq=step)
    regular = series.reindex(grid)
    # Timestamps off the grid (a shifted part): snap them to the nearest step.
    if regular.isna().sum() > series.isna().sum() and len(grid) < 1.5 * len(series):
        snapped = series.copy()
        snapped.index = grid[grid.get_indexer(series.index, method="nearest")]
        regular = snapped[~snapped.index.duplicated(keep="first")].reindex(grid)
    missing = int(regular.isna().sum())
    step_minutes = step.total_seconds() / 60.0
    per_hour = max(1, round(60 / step_minutes))
    values = regular.interpolate(limit=per_hour, limit_area="inside").to_numpy(float)
    for lag_days in (7, 1):
        lag = round(lag_days * 24 * 60 / step_minutes)
        holes = np.flatnonzero(np.isnan(values))
        for i in holes:
            if i >= lag and not np.isnan(values[i - lag]):
                values[i] = values[i - lag]
    values = np.nan_to_num(values, nan=0.0)
    return Trace(Path(path).stem, grid, np.clip(values, 0.0, None), step_minutes, missing)
