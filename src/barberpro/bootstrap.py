"""Wires the platform from one Settings object. Nothing connects before `build()` is called."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from barberpro.adapters.bus.in_process import InProcessBus
from barberpro.adapters.clock import SystemClock
from barberpro.adapters.db.directory import SqlPlatformDirectory
from barberpro.adapters.db.engine import Database, detect_rls_role, open_database
from barberpro.adapters.db.migrate import upgrade
from barberpro.adapters.db.outbox_relay import OutboxRelay
from barberpro.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from barberpro.adapters.security.passwords import Argon2PasswordHasher
from barberpro.application.ports import Clock, PasswordHasher
from barberpro.config import Settings


def secret_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    if not settings.database_url.startswith("sqlite"):
        raise RuntimeError("BARBERPRO_SECRET_KEY must be set (32+ characters) when not running embedded")
    path = Path(settings.var_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


@dataclass
class Platform:
    settings: Settings
    database: Database
    uow: SqlUnitOfWorkFactory
    directory: SqlPlatformDirectory
    hasher: PasswordHasher
    clock: Clock
    secret: bytes
    bus: InProcessBus
    relay: OutboxRelay
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.relay.stop()
        self.database.dispose()


def migrate(settings: Settings) -> None:
    database = open_database(settings.database_url)
    try:
        upgrade(database)
    finally:
        database.dispose()


def build(
    settings: Settings | None = None, *, clock: Clock | None = None, hasher: PasswordHasher | None = None
) -> Platform:
    settings = settings or Settings()
    database = detect_rls_role(open_database(settings.database_url))
    bus = InProcessBus()
    return Platform(
        settings=settings,
        database=database,
        uow=SqlUnitOfWorkFactory(database),
        directory=SqlPlatformDirectory(database),
        hasher=hasher or Argon2PasswordHasher(),
        clock=clock or SystemClock(),
        secret=secret_key(settings),
        bus=bus,
        relay=OutboxRelay(database, bus),
    )
