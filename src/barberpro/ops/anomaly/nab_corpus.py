"""Reading a NAB-format directory: ``data/**.csv`` (timestamp,value), ``windows.json``, ``labels.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from barberpro.ops.anomaly.nab_scoring import FileLayout


@dataclass(frozen=True)
class LabelledSeries:
    name: str  # relative to DIR/data, with forward slashes (NAB's key)
    timestamps: npt.NDArray[np.datetime64]
    values: npt.NDArray[np.float64]
    windows: tuple[tuple[str, str], ...]
    labels: tuple[str, ...]

    @property
    def layout(self) -> FileLayout:
        return FileLayout.from_timestamps(self.timestamps, self.windows)


def read_series_csv(path: Path) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    import pandas as pd

    frame = pd.read_csv(path)
    ts = pd.to_datetime(frame["timestamp"]).to_numpy(dtype="datetime64[ns]")
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=np.float64)
    return ts, values


def list_data_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "data").rglob("*.csv") if p.is_file())


def load_corpus(root: Path) -> list[LabelledSeries]:
    windows = _read_json(root / "windows.json")
    labels = _read_json(root / "labels.json")
    out = []
    for path in list_data_files(root):
        name = path.relative_to(root / "data").as_posix()
        ts, values = read_series_csv(path)
        out.append(
            LabelledSeries(
                name=name,
                timestamps=ts,
                values=values,
                windows=tuple((str(a), str(b)) for a, b in windows.get(name, [])),
                labels=tuple(str(x) for x in labels.get(name, [])),
            )
        )
    return out


def _read_json(path: Path) -> dict[str, list]:  # type: ignore[type-arg]
    if not path.exists():
        return {}
    with path.open() as fh:
        data = json.load(fh)
    assert isinstance(data, dict)
    return data
