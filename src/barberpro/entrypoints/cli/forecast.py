"""`barberpro forecast ...`: forecast a demand trace, and evaluate models by rolling origin."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Forecasting: predict request load, evaluate models.", no_args_is_help=True)


@app.command()
def predict(
    trace: Annotated[Path, typer.Option(help="CSV: timestamp and one numeric column (requests per step).")],
    model: Annotated[str, typer.Option(help="Model name, or 'default'.")] = "default",
    horizon_minutes: Annotated[float, typer.Option(help="How far ahead.")] = 15.0,
    out: Annotated[Path | None, typer.Option(help="Write the forecast as CSV here (else stdout).")] = None,
) -> None:
    """Fit on the whole trace and forecast the next steps, with quantiles."""
    import pandas as pd

    from barberpro.ops.autoscaling.traces import load_trace
    from barberpro.ops.forecasting import make_model

    data = load_trace(trace)
    horizon = max(1, round(horizon_minutes / data.step_minutes))
    fitted = make_model(model).fit(data.values, data.step_minutes)
    forecast = fitted.predict(data.values, horizon)
    step = pd.Timedelta(minutes=data.step_minutes)
    frame = pd.DataFrame(
        {"timestamp": data.timestamps[-1] + step * (1 + pd.RangeIndex(horizon)), "mean": forecast.mean}
    )
    for q, values in sorted(forecast.quantiles.items()):
        frame[f"q{q:g}"] = values
    text = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def evaluate(
    trace: Annotated[Path, typer.Option(help="CSV: timestamp and one numeric column.")],
    models: Annotated[str, typer.Option(help="Comma-separated model names.")] = (
        "seasonal_naive_day,seasonal_naive_week,stacked_profile,daily_profile,autoets,mstl"
    ),
    test_days: Annotated[float, typer.Option(help="Evaluate over the last N days.")] = 7.0,
) -> None:
    """Rolling origin (refit daily, expanding window) at 15 minutes and 24 hours; prints JSON."""
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from barberpro.ops.autoscaling.traces import load_trace
    from barberpro.ops.forecasting import hybrid_available, make_model
    from barberpro.ops.forecasting.evaluation import EvaluationSpec, rolling_origin

    data = load_trace(trace)
    names = models.split(",")
    if "prophet_lstm" in names and not hybrid_available():
        raise typer.BadParameter("prophet_lstm needs the [hybrid] extra (prophet, torch)", param_hint="--models")
    spec = EvaluationSpec(test_days=test_days)
    results: dict[str, object] = {}
    # Progress goes to stderr so stdout stays pure JSON.
    with Progress(console=Console(stderr=True)) as progress:
        for name in names:
            task = progress.add_task(name, total=None)

            def on_day(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            results[name] = rolling_origin(partial(make_model, name), data.values, data.step_minutes, spec, on_day)
    typer.echo(json.dumps({"trace": str(trace), "test_days": test_days, "models": results}, indent=1))
