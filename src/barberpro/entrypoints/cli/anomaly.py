"""`barberpro anomaly ...`: detect, evaluate, chart and watch.

Heavy libraries (numpy, pandas, matplotlib, river) are imported inside the commands so that
`barberpro --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Anomaly detection on metrics: detect, evaluate (NAB), chart, watch.", no_args_is_help=True)

DEFAULT_DEV_DATA = Path("../shared/data/anomaly/nab-dev")


@app.command()
def detect(
    data: Path = typer.Option(DEFAULT_DEV_DATA, "--data", help="NAB-format directory (reads DATA/data/**.csv)."),
    out: Path = typer.Option(..., "--out", help="Output directory; mirrors DATA/data's layout."),
    threshold: float | None = typer.Option(None, help="Alert threshold (default: the shipped one)."),
) -> None:
    """Score every DATA/data/**.csv with the default detector; write timestamp,value,anomaly_score,alert."""
    import pandas as pd
    from rich.progress import Progress

    from barberpro.ops.anomaly.detector import DEFAULT_THRESHOLD, score_series, unix_seconds
    from barberpro.ops.anomaly.nab_corpus import list_data_files

    cut = DEFAULT_THRESHOLD if threshold is None else threshold
    files = list_data_files(data)
    if not files:
        raise typer.BadParameter(f"no CSV files under {data / 'data'}")
    with Progress() as progress:
        task = progress.add_task("scoring", total=len(files))
        for path in files:
            frame = pd.read_csv(path)
            values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
            times = unix_seconds(pd.to_datetime(frame["timestamp"]).to_numpy(dtype="datetime64[ns]"))
            scores = score_series(values, times)
            target = out / path.relative_to(data / "data")
            target.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(
                {
                    "timestamp": frame["timestamp"],
                    "value": frame["value"],
                    "anomaly_score": scores,
                    "alert": (scores >= cut).astype(int),
                }
            ).to_csv(target, index=False)
            progress.advance(task)
    typer.echo(f"wrote {len(files)} files under {out} (threshold {cut})")


@app.command()
def evaluate(
    data: Path = typer.Option(DEFAULT_DEV_DATA, "--data", help="NAB-format directory."),
    detectors: str = typer.Option(
        "default,baselines", help="Comma list: default, baselines, null, random, rolling_z, river_hst."
    ),
    folds: int = typer.Option(6, help="Cross-validation folds across files."),
    workers: int = typer.Option(2, help="Processes used to score files."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Also write the JSON report here."),
) -> None:
    """NAB scores (three profiles, corpus-optimised and cross-validated) plus event metrics."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from barberpro.ops.anomaly.baselines import baseline_detectors
    from barberpro.ops.anomaly.detector import DEFAULT_THRESHOLD, default_detector
    from barberpro.ops.anomaly.evaluation import ScoreFn, compare_detectors
    from barberpro.ops.anomaly.nab_corpus import load_corpus

    corpus = load_corpus(data)
    if not corpus:
        raise typer.BadParameter(f"no CSV files under {data / 'data'}")
    wanted = [w.strip() for w in detectors.split(",") if w.strip()]
    available = baseline_detectors()
    chosen: dict[str, ScoreFn] = {}
    for w in wanted:
        if w == "default":
            chosen["default"] = default_detector
        elif w == "baselines":
            chosen.update(available)
        elif w == "random":
            chosen.update({k: v for k, v in available.items() if k.startswith("random")})
        elif w in available:
            chosen[w] = available[w]
        else:
            raise typer.BadParameter(f"unknown detector {w!r}")
    with Progress(transient=True) as progress:
        task = progress.add_task("evaluating", total=len(chosen))
        reports = compare_detectors(
            corpus,
            chosen,
            frozen_thresholds={"default": DEFAULT_THRESHOLD},
            folds=folds,
            workers=workers,
            on_done=lambda _name: progress.advance(task),
        )
    payload = {
        "data": str(data),
        "files": len(corpus),
        "folds": folds,
        "results": [r.as_dict() for r in reports],
    }
    text = json.dumps(payload, indent=2, default=float)
    typer.echo(text)
    if json_out is not None:
        json_out.write_text(text)
    table = Table(title="NAB normalised scores (corpus-optimised / cross-validated / frozen default)")
    table.add_column("detector")
    for profile in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
        table.add_column(profile)
    table.add_column("found")
    table.add_column("FA/metric-day")
    table.add_column("delay med/p90")
    for r in reports:
        cells = []
        for p in r.profiles:
            frozen = "" if p.frozen_score is None else f" / {p.frozen_score:.1f}"
            cells.append(f"{p.corpus_score:.1f} / {p.cv_score:.1f}{frozen}")
        ev = r.events
        table.add_row(
            r.detector,
            *cells,
            f"{ev['found']}/{ev['windows']}",
            f"{ev['false_alerts_per_metric_day']:.3f}",
            f"{_fmt(ev['delay_median_intervals'])} / {_fmt(ev['delay_p90_intervals'])}",
        )
    Console(stderr=True, width=160).print(table)


def _fmt(x: object) -> str:
    return "-" if x is None else f"{float(x):.1f}"  # type: ignore[arg-type]


@app.command()
def chart(
    csv: Path = typer.Option(..., "--csv", help="A series CSV (timestamp,value) or a `detect` output file."),
    out: Path = typer.Option(..., "--out", help="PNG or SVG path."),
    windows: Path | None = typer.Option(None, help="NAB windows.json to shade labelled windows."),
    threshold: float | None = typer.Option(None, help="Alert threshold (default: the shipped one)."),
) -> None:
    """Chart a series with its anomaly score and alerts."""
    from barberpro.ops.anomaly.charts import chart_series

    chart_series(csv, out, windows_json=windows, threshold=threshold)
    typer.echo(f"wrote {out}")


@app.command()
def watch(
    url: list[str] = typer.Option([], "--url", help="Prometheus text endpoint to scrape (repeatable)."),
    interval: float = typer.Option(15.0, help="Seconds between scrapes."),
    webhook_url: str | None = typer.Option(None, envvar="BARBERPRO_ANOMALY_WEBHOOK_URL"),
    webhook_secret: str | None = typer.Option(None, envvar="BARBERPRO_ANOMALY_WEBHOOK_SECRET"),
    threshold: float | None = typer.Option(None, help="Alert threshold (default: the shipped one)."),
    warmup: int | None = typer.Option(None, help="Samples per series before alerting (default: detector's)."),
    iterations: int = typer.Option(0, help="Stop after this many scrapes (0: run until interrupted)."),
    metrics_port: int = typer.Option(0, help="Serve the monitor's own gauges on this port (0: off)."),
) -> None:
    """Scrape Prometheus endpoints, score every series, alert by log, gauge and signed webhook."""
    from barberpro.ops.anomaly.monitor import MonitorSettings, run_monitor

    if not url:
        raise typer.BadParameter("give at least one --url")
    settings = MonitorSettings(
        urls=tuple(url),
        interval=interval,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        threshold=threshold,
        warmup=warmup,
        metrics_port=metrics_port,
    )
    run_monitor(settings, iterations=iterations or None)
