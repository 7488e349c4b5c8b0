"""Transactional outbox relay: publishes committed events, in order, at least once.

Cross-tenant by nature, so it uses the platform path (no tenant role); consumers must be
idempotent on the event id.
"""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import select, update

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.engine import Database
from barberpro.application.ports import EventPublisher
from barberpro.domain.events import DomainEvent

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, database: Database, publisher: EventPublisher, batch: int = 500) -> None:
        self._db = database
        self._publisher = publisher
        self._batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        if not self._pending():
            return 0
        # On SQLite, queue on the process's write lock like every unit of work does: a booking
        # that met the relay inside SQLite's busy handler would sleep in growing steps (1, 2,
        # 5, 10 ms ...) instead of being woken the moment the relay commits.
        lock = self._db.write_lock if self._db.write_lock is not None else nullcontext()
        with lock, self._db.write_engine.begin() as connection:
            rows = connection.execute(
                select(t.outbox).where(t.outbox.c.published_at.is_(None)).order_by(t.outbox.c.seq).limit(self._batch)
            ).all()
            for row in rows:
                self._publisher.publish(
                    DomainEvent(
                        name=row.name,
                        tenant_id=row.tenant_id,
                        entity_id=row.entity_id,
                        occurred_at=row.occurred_at,
                        data={**row.data, "event_id": row.id},
                    )
                )
            if rows:
                connection.execute(
                    update(t.outbox)
                    .where(t.outbox.c.seq.in_([r.seq for r in rows]))
                    .values(published_at=datetime.now(UTC))
                )
        return len(rows)

    def _pending(self) -> bool:
        """A read-only look first, so an idle poll never takes the write lock."""
        with self._db.engine.connect() as connection:
            return (
                connection.execute(select(t.outbox.c.seq).where(t.outbox.c.published_at.is_(None)).limit(1)).first()
                is not None
            )

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    while self.run_once() == self._batch:
                        pass
                except Exception:  # keep relaying after a transient database error
                    log.exception("outbox relay failed; retrying")

        self._thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
