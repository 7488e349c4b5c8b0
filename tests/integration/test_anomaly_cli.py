"""`barberpro anomaly detect | evaluate | chart` on a small NAB-format directory made here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from barberpro.entrypoints.cli.main import app


@pytest.fixture
def nab_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    windows: dict[str, list[list[str]]] = {}
    labels: dict[str, list[str]] = {}
    for k, name in enumerate(["cat_a/spiky.csv", "cat_b/quiet.csv"]):
        ts = pd.date_range("2026-01-01", periods=1500, freq="5min")
        values = 50 + 10 * np.sin(np.arange(1500) * 2 * np.pi / 288) + rng.normal(0, 1, 1500)
        if k == 0:
            values[1000] += 80
            windows[name] = [[str(ts[960]), str(ts[1040])]]
            labels[name] = [str(ts[1000])]
        else:
            windows[name] = []
            labels[name] = []
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True)
        pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": values}).to_csv(path, index=False)
    (tmp_path / "windows.json").write_text(json.dumps(windows))
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    return tmp_path


def test_detect_writes_nab_results_layout(nab_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["anomaly", "detect", "--data", str(nab_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "cat_a" / "spiky.csv")
    assert list(frame.columns) == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(frame) == 1500 and frame["alert"].isin([0, 1]).all()
    assert frame.loc[1000, "alert"] == 1
    assert (out / "cat_b" / "quiet.csv").exists()


def test_evaluate_prints_json_with_baselines(nab_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "anomaly",
            "evaluate",
            "--data",
            str(nab_dir),
            "--detectors",
            "default,null,rolling_z",
            "--folds",
            "2",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])
    by_name = {r["detector"]: r for r in payload["results"]}
    assert set(by_name) == {"default", "null", "rolling_z"}
    assert by_name["null"]["profiles"]["standard"]["corpus_optimised"] == 0.0
    assert by_name["default"]["profiles"]["standard"]["corpus_optimised"] > 90.0
    assert by_name["default"]["events"]["found"] == 1


def test_chart_writes_png(nab_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    result = CliRunner().invoke(
        app,
        [
            "anomaly",
            "chart",
            "--csv",
            str(nab_dir / "data" / "cat_a" / "spiky.csv"),
            "--out",
            str(png),
            "--windows",
            str(nab_dir / "windows.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
