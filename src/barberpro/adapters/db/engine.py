"""Engines for SQLite (embedded) and PostgreSQL (scaled out)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

APP_ROLE = "barberpro_app"


@dataclass(frozen=True)
class Database:
    """An engine plus what we learned about it at start-up."""

    engine: Engine
    write_engine: Engine  # SQLite: the same pool, but transactions BEGIN IMMEDIATE
    dialect: str
    rls_role: str | None  # PostgreSQL: the role that row-level security applies to
    # SQLite has one writer at a time. Queueing writers on a lock in the process is fair and
    # wakes the next one at once; SQLite's own busy handler sleeps and retries, which under
    # contention gives a long latency tail. Other processes still meet busy_timeout.
    write_lock: threading.Lock | None = field(default=None, compare=False)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite(url: str, echo: bool) -> Database:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (pysqlite's own transaction handling defers it and
        # breaks SAVEPOINT); WAL lets readers run beside the one writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: concurrent writers queue instead of
        # reading the same availability and then failing to upgrade their lock.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return Database(
        engine=engine,
        write_engine=engine.execution_options(sqlite_begin="IMMEDIATE"),
        dialect="sqlite",
        rls_role=None,
        write_lock=threading.Lock(),
    )


def _postgres(url: str, echo: bool) -> Database:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)
    return Database(engine=engine, write_engine=engine, dialect="postgresql", rls_role=None)


def open_database(url: str, *, echo: bool = False) -> Database:
    if url.startswith("sqlite"):
        return _sqlite(url, echo)
    if url.startswith("postgres"):
        return _postgres(url, echo)
    raise ValueError(f"unsupported database URL: {url.split(':', 1)[0]}")


def detect_rls_role(database: Database) -> Database:
    """Use the restricted role for tenant work when it exists and we may assume it."""
    if database.dialect != "postgresql":
        return database
    with database.engine.connect() as connection:
        usable = connection.execute(
            text(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role) "
                "THEN pg_has_role(current_user, :role, 'MEMBER') ELSE false END"
            ),
            {"role": APP_ROLE},
        ).scalar()
    return Database(
        database.engine,
        database.write_engine,
        database.dialect,
        APP_ROLE if usable else None,
        database.write_lock,
    )
