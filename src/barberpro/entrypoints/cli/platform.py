"""Platform commands: serve, db upgrade, demo."""

from __future__ import annotations

import json
from typing import Annotated

import typer

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
    app.add_typer(db_app, name="db")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (BARBERPRO_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (BARBERPRO_PORT, default 8000)")] = None,
    workers: Annotated[str, typer.Option(help='Worker processes: a number, or "auto" to follow the load')] = "1",
) -> None:
    """Serve the HTTP API (and pages) with uvicorn."""
    import uvicorn

    from barberpro.config import Settings

    settings = Settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if workers == "auto":
        # A process pool whose worker count follows the autoscaling policy on the live request rate.
        from barberpro.entrypoints.worker.autoscaled_server import run

        typer.echo(f"BarberPro serving on http://{bind_host}:{bind_port} with an autoscaled worker pool")
        raise typer.Exit(run("barberpro.entrypoints.http.app:create_app", host=bind_host, port=bind_port))
    if not workers.isdigit() or int(workers) < 1:
        raise typer.BadParameter('workers must be a positive number or "auto"', param_hint="--workers")
    typer.echo(f"BarberPro serving on http://{bind_host}:{bind_port}  (database: {settings.database_url})")
    uvicorn.run(
        "barberpro.entrypoints.http.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=int(workers),
        access_log=False,
        log_level="warning",
        proxy_headers=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply the schema migrations (SQLite or PostgreSQL, from BARBERPRO_DATABASE_URL)."""
    from barberpro.adapters.db.engine import open_database
    from barberpro.adapters.db.migrate import upgrade
    from barberpro.config import Settings

    settings = Settings()
    database = open_database(settings.database_url)
    try:
        upgrade(database, revision)
    finally:
        database.dispose()
    typer.echo(f"database at {revision}: {settings.database_url}")


def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if the demo tenant exists")] = False,
    seed: int = 2026,
) -> None:
    """Create the demo tenants (two brands, shops, barbers, services, hours and bookings)."""
    from rich.console import Console

    from barberpro.bootstrap import build
    from barberpro.config import Settings
    from barberpro.entrypoints.cli.demo_data import seed_demo

    console = Console(stderr=True)
    platform = build(Settings())
    try:
        if platform.directory.tenant_by_slug("demo") is not None:
            if if_empty:
                console.print("demo tenant already present; nothing to do")
                return
            raise typer.BadParameter("the demo tenant already exists (use --if-empty to skip)")
        with console.status("Creando datos de demostración…"):
            summary = seed_demo(platform, seed=seed)
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    finally:
        platform.close()
