"""`barberpro anomaly ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="anomaly commands.", no_args_is_help=True)
