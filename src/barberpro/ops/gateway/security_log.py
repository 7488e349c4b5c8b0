"""Security events: buffered in memory, aggregated per minute, flushed to the database.

A flood of refused requests must not turn into a flood of database writes, so repeated
events (rate-limited, shed, oversized, blocked) are counted per (minute, tenant, kind,
subject) and written in one batch; detections are rare and written as they come.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from barberpro.adapters.db import tables as t

_Key = tuple[datetime, str, str, str]  # minute, host, kind, subject
DETECTION_KINDS = ("credential_stuffing_ip", "credential_stuffing_wide", "booking_abuse")


class SecurityLog:
    def __init__(
        self,
        engine: Engine,
        resolve_tenant: Callable[[str], str] = lambda host: "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`resolve_tenant` maps a request's host to its tenant id ("" when none); it runs in
        the flushing thread, never on the request path."""
        self._engine = engine
        self._resolve = resolve_tenant
        self._clock = clock
        self._pending: dict[_Key, int] = defaultdict(int)
        self._details: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sources: list[Callable[[], dict[tuple[str, str, str], int]]] = []

    def add_source(self, drain: Callable[[], dict[tuple[str, str, str], int]]) -> None:
        """Counts kept elsewhere (the load shedder's), drained at each flush: {(host, kind, subject): n}."""
        self._sources.append(drain)

    def count(self, host: str, kind: str, subject: str) -> None:
        minute = self._clock().replace(second=0, microsecond=0)
        with self._lock:
            self._pending[(minute, host, kind, subject[:80])] += 1

    def detection(self, host: str, kind: str, subject: str, detail: dict[str, Any]) -> None:
        row = {
            "tenant_id": host,
            "kind": kind,
            "subject": subject[:80],
            "count": 1,
            "detail": detail,
            "occurred_at": self._clock(),
        }
        with self._lock:
            self._details.append(row)

    def flush(self) -> int:
        for drain in self._sources:
            counts = drain()
            if counts:
                minute = self._clock().replace(second=0, microsecond=0)
                with self._lock:
                    for (host, kind, subject), n in counts.items():
                        host = host.split(":", 1)[0].lower().rstrip(".")[:253]
                        self._pending[(minute, host, kind, subject[:80])] += n
        with self._lock:
            pending, self._pending = self._pending, defaultdict(int)
            rows, self._details = self._details, []
        rows += [
            {"tenant_id": host, "kind": kind, "subject": subject, "count": n, "detail": {}, "occurred_at": minute}
            for (minute, host, kind, subject), n in pending.items()
        ]
        tenants: dict[str, str] = {}
        for row in rows:
            host = row["tenant_id"]
            if host not in tenants:
                try:
                    tenants[host] = self._resolve(host)[:36]
                except Exception:
                    tenants[host] = ""
            row["tenant_id"] = tenants[host]
            if host and "host" not in row["detail"]:
                row["detail"] = {**row["detail"], "host": host[:100]}
        if rows:
            with self._engine.begin() as connection:
                connection.execute(insert(t.security_events), rows)
        return len(rows)

    def start(self, interval: float = 5.0) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.flush()
                except Exception:  # noqa: S112 - a database hiccup must not stop the flusher
                    continue

        self._thread = threading.Thread(target=loop, name="security-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):  # shutting down: nothing left to tell
            self.flush()


@dataclass(frozen=True)
class ReportRow:
    kind: str
    tenant_id: str
    events: int
    subjects: int
    first: datetime
    last: datetime


def summarise(engine: Engine, since: timedelta, now: datetime | None = None) -> list[ReportRow]:
    """Blocked requests, lock-outs and detections per kind and tenant over the last `since`."""
    start = (now or datetime.now(UTC)) - since
    e = t.security_events
    query = (
        select(
            e.c.kind,
            e.c.tenant_id,
            func.sum(e.c.count),
            func.count(func.distinct(e.c.subject)),
            func.min(e.c.occurred_at),
            func.max(e.c.occurred_at),
        )
        .where(e.c.occurred_at >= start)
        .group_by(e.c.kind, e.c.tenant_id)
        .order_by(func.sum(e.c.count).desc())
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()

    def aware(moment: Any) -> datetime:
        value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return [ReportRow(r[0], r[1], int(r[2]), int(r[3]), aware(r[4]), aware(r[5])) for r in rows]


def detections(engine: Engine, since: timedelta, now: datetime | None = None, limit: int = 50) -> list[Any]:
    start = (now or datetime.now(UTC)) - since
    e = t.security_events
    query = (
        select(e.c.occurred_at, e.c.tenant_id, e.c.kind, e.c.subject, e.c.detail)
        .where(e.c.occurred_at >= start, e.c.kind.in_(DETECTION_KINDS))
        .order_by(e.c.seq.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).all())
