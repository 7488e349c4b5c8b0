"""`barberpro security report`: blocked requests, lock-outs and detections over a period."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer

app = typer.Typer(help="Security: what the API gateway blocked and detected.", no_args_is_help=True)

_PERIOD = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_period(text: str) -> float:
    """ "30m", "24h" or "7d" in seconds."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise typer.BadParameter('use a number and a unit, e.g. "30m", "24h" or "7d"', param_hint="--since")
    return int(match.group(1)) * _UNITS[match.group(2)]


@app.command()
def report(
    since: Annotated[str, typer.Option(help='Period to summarise: "30m", "24h", "7d"')] = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
) -> None:
    """Summarise rate-limited, shed and oversized requests, log-in blocks, lock-outs and detections."""
    from datetime import UTC, datetime, timedelta

    from rich.console import Console
    from rich.table import Table

    from barberpro.adapters.db.engine import open_database
    from barberpro.config import Settings
    from barberpro.ops.gateway.security_log import detections, summarise

    period = timedelta(seconds=parse_period(since))
    now = datetime.now(UTC)
    database = open_database(Settings().database_url)
    try:
        rows = summarise(database.write_engine, period, now)
        found = detections(database.write_engine, period, now)
    finally:
        database.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "since": (now - period).isoformat(),
                    "summary": [
                        {
                            "kind": r.kind,
                            "tenant_id": r.tenant_id,
                            "events": r.events,
                            "subjects": r.subjects,
                            "first": r.first.isoformat(),
                            "last": r.last.isoformat(),
                        }
                        for r in rows
                    ],
                    "detections": [
                        {
                            "at": str(d.occurred_at),
                            "tenant_id": d.tenant_id,
                            "kind": d.kind,
                            "subject": d.subject,
                            "detail": d.detail,
                        }
                        for d in found
                    ],
                },
                indent=2,
            )
        )
        return
    console = Console()
    table = Table(title=f"Security events, last {since}")
    for column in ("kind", "tenant", "events", "distinct subjects", "first", "last"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.kind,
            r.tenant_id or "-",
            str(r.events),
            str(r.subjects),
            r.first.strftime("%Y-%m-%d %H:%M"),
            r.last.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    if found:
        listing = Table(title="Detections (newest first)")
        for column in ("at", "tenant", "kind", "subject", "detail"):
            listing.add_column(column)
        for d in found:
            listing.add_row(str(d.occurred_at)[:19], d.tenant_id or "-", d.kind, d.subject, json.dumps(d.detail))
        console.print(listing)
    elif not rows:
        console.print("Nothing blocked or detected in this period.")
