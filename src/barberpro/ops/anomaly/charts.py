"""Chart of a series with its anomaly score, alerts and (optionally) labelled windows."""

from __future__ import annotations

import json
from pathlib import Path


def chart_series(
    csv_path: Path,
    out: Path,
    windows_json: Path | None = None,
    threshold: float | None = None,
    title: str | None = None,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from barberpro.ops.anomaly.detector import DEFAULT_THRESHOLD, score_series, unix_seconds

    cut = DEFAULT_THRESHOLD if threshold is None else threshold
    frame = pd.read_csv(csv_path)
    ts = pd.to_datetime(frame["timestamp"])
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    if "anomaly_score" in frame:
        scores = frame["anomaly_score"].to_numpy(dtype=float)
    else:
        scores = score_series(values, unix_seconds(ts.to_numpy(dtype="datetime64[ns]")))
    alerts = np.flatnonzero(scores >= cut)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 5), sharex=True, height_ratios=[3, 1])
    top.plot(ts, values, lw=0.7, color="#1f77b4", label="value")
    if alerts.size:
        top.scatter(ts.iloc[alerts], values[alerts], color="#d62728", s=30, zorder=3, label="alert")
    for start, end in _windows_for(csv_path, windows_json):
        for ax in (top, bottom):
            ax.axvspan(pd.Timestamp(start), pd.Timestamp(end), color="#ff9896", alpha=0.3, lw=0)
    top.legend(loc="upper left", fontsize=8)
    top.set_title(title or csv_path.name, fontsize=10)
    bottom.plot(ts, scores, lw=0.7, color="#2ca02c")
    bottom.axhline(cut, color="#d62728", lw=0.8, ls="--")
    bottom.set_ylabel("score")
    bottom.set_ylim(0, 1.05)
    fig.autofmt_xdate()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _windows_for(csv_path: Path, windows_json: Path | None) -> list[tuple[str, str]]:
    if windows_json is None or not windows_json.exists():
        return []
    data = json.loads(windows_json.read_text())
    # NAB keys are "<category>/<file>.csv"; match on the tail of the path.
    key = f"{csv_path.parent.name}/{csv_path.name}"
    return [(a, b) for a, b in data.get(key, [])]
