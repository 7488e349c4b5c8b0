"""Serialising the numbering of one point of sale: AFIP accepts only "last authorised + 1".

PostgreSQL: a session-level advisory lock on a dedicated connection (works across replicas).
SQLite (one machine): an exclusive `flock` on a file under var/, which also serialises
threads, because each acquisition opens its own file description.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from barberpro.adapters.db.engine import Database


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class DatabaseNumberingLock:
    def __init__(self, database: Database, lock_dir: str | Path) -> None:
        self._database = database
        self._dir = Path(lock_dir)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        if self._database.dialect == "postgresql":
            with self._database.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _lock_id(key)})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _lock_id(key)})
                    connection.commit()
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / f"numbering-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"
        with path.open("a+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
