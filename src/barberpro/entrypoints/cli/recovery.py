"""`barberpro backup ...`, `barberpro restore` and `barberpro drill`: disaster recovery.

Configuration (environment): BARBERPRO_BACKUP_TO (a directory), BARBERPRO_BACKUP_KEY
(base64 AES-256 key from `barberpro backup keygen`), BARBERPRO_BACKUP_MODE (async, the
default, ships every BARBERPRO_BACKUP_INTERVAL seconds; sync acknowledges a write only
once it is in the backup location).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

backup_app = typer.Typer(help="Continuous, encrypted backups (SQLite WAL shipping).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
    app.command("restore")(restore_command)
    app.command("drill")(drill_command)


def create_app_with_backup() -> Any:
    """The API (create_app) with continuous backup when BARBERPRO_BACKUP_TO is set."""
    from barberpro.config import Settings
    from barberpro.entrypoints.http.app import create_app
    from barberpro.ops.recovery.continuous import install_continuous_backup

    settings = Settings()
    app = create_app(settings)
    install_continuous_backup(app, settings.database_url)
    return app


@backup_app.command("keygen")
def keygen() -> None:
    """Print a new backup encryption key (keep it apart from the backups)."""
    from barberpro.ops.recovery.sealing import new_key

    typer.echo(f"BARBERPRO_BACKUP_KEY={new_key()}")


@backup_app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (BARBERPRO_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (BARBERPRO_PORT)")] = None,
) -> None:
    """Serve the API with continuous backup running in the server process (one worker)."""
    import uvicorn

    from barberpro.config import Settings

    settings = Settings()
    uvicorn.run(
        "barberpro.entrypoints.cli.recovery:create_app_with_backup",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=1,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
    )


@backup_app.command("stream")
def stream() -> None:
    """Ship the WAL continuously beside another writer (asynchronous mode) until stopped."""
    import signal
    import threading

    from barberpro.config import Settings
    from barberpro.ops.recovery.continuous import BackupSettings, shipper_from, sqlite_path

    database = sqlite_path(Settings().database_url)
    if database is None:
        raise typer.BadParameter("BARBERPRO_DATABASE_URL must name an SQLite file")
    shipper = shipper_from(BackupSettings(), database)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    shipper.start()
    typer.echo(json.dumps({"generation": shipper.stats.generation}))
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        shipper.stop()


@backup_app.command("snapshot")
def snapshot() -> None:
    """Start a new generation now: a consistent snapshot, then ship what follows."""
    from barberpro.config import Settings
    from barberpro.ops.recovery.continuous import BackupSettings, shipper_from, sqlite_path

    database = sqlite_path(Settings().database_url)
    if database is None:
        raise typer.BadParameter("BARBERPRO_DATABASE_URL must name an SQLite file")
    shipper = shipper_from(BackupSettings(), database)
    shipper.tick()
    shipper.stop()
    typer.echo(json.dumps({"generation": shipper.stats.generation, "segments": shipper.stats.segments}))


@backup_app.command("list")
def list_generations() -> None:
    """Generations in the backup location, oldest first."""
    from barberpro.ops.recovery.chain import generations
    from barberpro.ops.recovery.continuous import BackupSettings
    from barberpro.ops.recovery.locations import open_location

    settings = BackupSettings()
    if not settings.to:
        raise typer.BadParameter("set BARBERPRO_BACKUP_TO")
    location = open_location(settings.to)
    for generation in generations(location):
        segments = location.list(f"generations/{generation}/segments")
        typer.echo(json.dumps({"generation": generation, "segments": len(segments)}))


def restore_command(
    to: Annotated[Path, typer.Option(help="New database file to create")],
    at: Annotated[str | None, typer.Option(help="Point in time (ISO 8601 with zone); default latest")] = None,
    generation: Annotated[str | None, typer.Option(help="A generation id from `backup list`")] = None,
    full_check: Annotated[bool, typer.Option(help="PRAGMA integrity_check instead of quick_check")] = False,
) -> None:
    """Restore the SQLite database from BARBERPRO_BACKUP_TO into a new file."""
    from dataclasses import asdict

    from barberpro.ops.recovery.chain import BrokenChain
    from barberpro.ops.recovery.continuous import BackupSettings
    from barberpro.ops.recovery.locations import open_location
    from barberpro.ops.recovery.restore import restore
    from barberpro.ops.recovery.sealing import load_key

    settings = BackupSettings()
    if not settings.to or not settings.key:
        raise typer.BadParameter("set BARBERPRO_BACKUP_TO and BARBERPRO_BACKUP_KEY")
    moment = datetime.fromisoformat(at) if at else None
    if moment is not None and moment.tzinfo is None:
        raise typer.BadParameter("give the time with its zone, e.g. 2026-03-02T09:00:00-03:00")
    try:
        report = restore(
            open_location(settings.to),
            load_key(settings.key),
            to,
            at=moment,
            generation=generation,
            full_check=full_check,
        )
    except BrokenChain as error:
        typer.echo(f"restore refused: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(asdict(report)))


def drill_command(
    workdir: Annotated[Path, typer.Option(help="Scratch directory (database copies, logs, acks)")] = Path(
        "./var/drill"
    ),
    runs: Annotated[int, typer.Option(help="How many drills; the worst case is reported")] = 1,
    mode: Annotated[str, typer.Option(help="async or sync")] = "async",
    bookings: Annotated[int, typer.Option(help="Extra bookings bulk-loaded into the database")] = 0,
    seconds: Annotated[float, typer.Option(help="Seconds of booking load before the kill")] = 5.0,
    clients: Annotated[int, typer.Option(help="Concurrent booking clients")] = 4,
    keep: Annotated[bool, typer.Option(help="Keep each run's files")] = False,
    history: Annotated[str, typer.Option(help="Bulk bookings beyond the horizon (future) or past")] = "future",
) -> None:
    """Load a real server, SIGKILL it, delete its data, restore, serve again; report RPO/RTO."""
    from dataclasses import asdict

    from rich.progress import Progress

    from barberpro.ops.recovery.drill import drill

    if mode not in ("async", "sync"):
        raise typer.BadParameter("mode must be async or sync")
    with Progress(transient=True) as progress:
        task = progress.add_task(f"DR drill ({mode})", total=runs)
        summary = drill(
            workdir,
            runs=runs,
            mode=mode,
            bookings=bookings,
            load_seconds=seconds,
            clients=clients,
            keep=keep,
            placement=history,
            progress=lambda done, _run: progress.update(task, completed=done),
        )
    typer.echo(json.dumps({"worst": summary.worst(), "runs": [asdict(r) for r in summary.runs]}, indent=1))


def _location_and_key() -> tuple[Any, bytes]:
    from barberpro.ops.recovery.continuous import BackupSettings
    from barberpro.ops.recovery.locations import open_location
    from barberpro.ops.recovery.sealing import load_key

    settings = BackupSettings()
    if not settings.to or not settings.key:
        raise typer.BadParameter("set BARBERPRO_BACKUP_TO and BARBERPRO_BACKUP_KEY")
    return open_location(settings.to), load_key(settings.key)


@backup_app.command("pg-archive-wal")
def pg_archive_wal(path: Path, segment: str) -> None:
    """PostgreSQL archive_command: `barberpro backup pg-archive-wal %p %f`."""
    from barberpro.ops.recovery.postgres import archive_wal

    location, key = _location_and_key()
    archive_wal(location, key, path, segment)


@backup_app.command("pg-fetch-wal")
def pg_fetch_wal(segment: str, path: Path) -> None:
    """PostgreSQL restore_command: `barberpro backup pg-fetch-wal %f %p` (exit 1: not archived)."""
    from barberpro.ops.recovery.postgres import fetch_wal

    location, key = _location_and_key()
    if not fetch_wal(location, key, segment, path):
        raise typer.Exit(1)


@backup_app.command("pg-put-base")
def pg_put_base(directory: Path, label: str) -> None:
    """Seal a pg_basebackup plain-format directory into the location."""
    from barberpro.ops.recovery.postgres import put_base_backup

    location, key = _location_and_key()
    typer.echo(put_base_backup(location, key, directory, label))


@backup_app.command("pg-get-base")
def pg_get_base(target: Path, name: Annotated[str | None, typer.Option(help="Default: the latest")] = None) -> None:
    """Unseal a base backup into an empty data directory."""
    from barberpro.ops.recovery.postgres import get_base_backup, latest_base_backup

    location, key = _location_and_key()
    chosen = name or latest_base_backup(location)
    get_base_backup(location, key, chosen, target)
    typer.echo(chosen)


@backup_app.command("pg-ship-spool")
def pg_ship_spool(
    spool: Path,
    every: Annotated[float, typer.Option(help="Seconds between passes; 0 ships once")] = 1.0,
) -> None:
    """Seal WAL files that archive_command left in a spool directory into the location."""
    import time

    from barberpro.ops.recovery.postgres import ship_spool

    location, key = _location_and_key()
    while True:
        for name in ship_spool(location, key, spool):
            typer.echo(name)
        if every <= 0:
            return
        time.sleep(every)


@backup_app.command("pg-fetch-all-wal")
def pg_fetch_all_wal(staging: Path) -> None:
    """Unseal the WAL archive into STAGING (then restore_command = 'cp STAGING/%f %p')."""
    from barberpro.ops.recovery.postgres import fetch_all_wal

    location, key = _location_and_key()
    typer.echo(json.dumps({"wal_files": fetch_all_wal(location, key, staging)}))
