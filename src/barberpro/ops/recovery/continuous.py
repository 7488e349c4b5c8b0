"""Continuous backup inside the API server: the shipper's life-cycle and synchronous acks.

`install_continuous_backup(app, database_url)` does nothing unless BARBERPRO_BACKUP_TO is
set. Then the ASGI middleware starts the WAL shipper at server start-up (after a first
snapshot), ships the tail at shutdown, and in synchronous mode holds the response of every
POST/PUT/PATCH/DELETE until what the request committed is durable in the backup location.
If the location cannot confirm in time, the client gets 503 instead of an acknowledgement.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic_settings import BaseSettings, SettingsConfigDict

from barberpro.ops.recovery.locations import open_location
from barberpro.ops.recovery.sealing import load_key
from barberpro.ops.recovery.shipper import NotDurable, WalShipper

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("barberpro.recovery")


class BackupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARBERPRO_BACKUP_", extra="ignore")

    to: str | None = None  # a directory; unset disables continuous backup
    key: str | None = None  # base64 AES-256 key (`barberpro backup keygen`)
    mode: Literal["async", "sync"] = "async"
    # Async mode: seconds between ticks. The loss window is at most this plus one tick
    # (tens of ms), so 0.8 keeps it within the 1 s the service promises.
    interval: float = 0.8
    snapshot_hours: float = 6.0
    checkpoint_mb: int = 16
    ack_timeout: float = 10.0


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url.removeprefix("sqlite:///")
    return None if path in ("", ":memory:") else Path(path)


def shipper_from(settings: BackupSettings, database: Path) -> WalShipper:
    if not settings.to or not settings.key:
        raise ValueError("set BARBERPRO_BACKUP_TO and BARBERPRO_BACKUP_KEY")
    return WalShipper(
        database,
        open_location(settings.to),
        load_key(settings.key),
        interval=settings.interval,
        checkpoint_bytes=settings.checkpoint_mb * 1024 * 1024,
        snapshot_every=settings.snapshot_hours * 3600,
    )


_UNAVAILABLE = json.dumps(
    {
        "type": "https://barberpro.app/problems/backup-unavailable",
        "title": "Backup location unavailable",
        "status": 503,
        "detail": "the change may have been saved but could not be made durable in the backup location; "
        "retry with the same Idempotency-Key",
    }
).encode()


class ContinuousBackupMiddleware:
    def __init__(
        self, app: ASGIApp, *, factory: Callable[[], WalShipper], mode: str, ack_timeout: float = 10.0
    ) -> None:
        self.app = app
        self.factory = factory
        self.synchronous = mode == "sync"
        self.ack_timeout = ack_timeout
        self.shipper: WalShipper | None = None
        self.waiters = anyio.CapacityLimiter(256)  # own threads: never starve the endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
            return
        if scope["type"] != "http" or not self.synchronous or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        refused = False

        async def durable_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                try:
                    await self.wait_durable()
                except NotDurable as error:
                    log.error("write not acknowledged: %s", error)
                    refused = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 503,
                            "headers": [
                                (b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(_UNAVAILABLE)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": _UNAVAILABLE})
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, durable_send)

    async def wait_durable(self) -> None:
        shipper = self.shipper
        if shipper is None:
            raise NotDurable("continuous backup is not running")
        await anyio.to_thread.run_sync(shipper.wait_durable, self.ack_timeout, limiter=self.waiters)

    def _lifespan_receive(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.shipper = self.factory()
                await anyio.to_thread.run_sync(self.shipper.start)
                log.info("continuous backup started: generation %s", self.shipper.stats.generation)
            elif message["type"] == "lifespan.shutdown" and self.shipper is not None:
                await anyio.to_thread.run_sync(self.shipper.stop)
            return message

        return wrapped


def install_continuous_backup(app: Any, database_url: str) -> bool:
    """Add the middleware when BARBERPRO_BACKUP_TO is set and the database is an SQLite file."""
    settings = BackupSettings()
    if not settings.to:
        return False
    database = sqlite_path(database_url)
    if database is None:
        raise ValueError(
            "continuous backup from the server is for SQLite; PostgreSQL archives its WAL (see deploy/postgres/)"
        )
    app.add_middleware(
        ContinuousBackupMiddleware,
        factory=lambda: shipper_from(settings, database),
        mode=settings.mode,
        ack_timeout=settings.ack_timeout,
    )
    return True
