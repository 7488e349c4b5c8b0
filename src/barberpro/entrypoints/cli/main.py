"""The `barberpro` command: one Typer app, one sub-app per area.

Sub-apps import their heavy dependencies inside their commands, so that
`barberpro --help` and `barberpro serve` start fast.
"""

from __future__ import annotations

import typer

from barberpro.entrypoints.cli import (
    anomaly,
    audit_trail,
    autoscale,
    autoscale_actuators,
    forecast,
    payments,
    platform,
    recovery,
    security,
)

app = typer.Typer(
    name="barberpro",
    help="BarberPro: booking platform for barbershops, and the infrastructure that runs it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

platform.register(app)
payments.register(app)
app.add_typer(anomaly.app, name="anomaly")
app.add_typer(forecast.app, name="forecast")
autoscale_actuators.register(autoscale.app)
app.add_typer(autoscale.app, name="autoscale")
app.add_typer(audit_trail.app, name="audit")
recovery.register(app)
app.add_typer(security.app, name="security")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
