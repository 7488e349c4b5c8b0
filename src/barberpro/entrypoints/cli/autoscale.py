"""`barberpro autoscale ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="autoscale commands.", no_args_is_help=True)
