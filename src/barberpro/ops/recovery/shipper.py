"""Continuous backup of an SQLite database in WAL mode: snapshots plus shipped WAL frames.

Each tick takes SQLite's writer lock (BEGIN IMMEDIATE on a connection of our own), copies
the frames committed since the last tick to the backup location, and, when the log has
grown, checkpoints it. Between ticks a read transaction of ours stays open: it stops any
other connection from checkpointing frames we have not shipped yet and then restarting
the log over them. If the log was restarted anyway (its salts changed without our
checkpoint), the chain cannot continue and a new generation starts with a fresh snapshot.

Synchronous mode: `wait_durable()` returns only after a tick that began after the call
has finished, so the caller's committed transaction is in the backup location.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from barberpro.ops.recovery import wal
from barberpro.ops.recovery.chain import put_sealed, segment_name, snapshot_name
from barberpro.ops.recovery.locations import BackupLocation
from barberpro.ops.recovery.sealing import digest

log = logging.getLogger("barberpro.recovery")


class NotDurable(RuntimeError):
    """The backup location did not confirm the write in time (synchronous mode)."""


@dataclass
class ShipperStats:
    generation: str = ""
    segments: int = 0
    frames: int = 0
    commits: int = 0
    snapshots: int = 0
    last_tick_at: float = 0.0
    errors: list[str] = field(default_factory=list)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


class WalShipper:
    def __init__(
        self,
        database: Path,
        location: BackupLocation,
        key: bytes,
        *,
        interval: float = 0.8,
        checkpoint_bytes: int = 16 * 1024 * 1024,
        snapshot_every: float = 6 * 3600.0,
    ) -> None:
        self.database = database
        self.wal_path = Path(f"{database}-wal")
        self.location = location
        self.key = key
        self.interval = interval
        self.checkpoint_bytes = checkpoint_bytes
        self.snapshot_every = snapshot_every
        self.stats = ShipperStats()
        self._writer = _connect(database)
        self._reader = _connect(database)
        self._checkpointer = _connect(database)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._salts: bytes | None = None
        self._ckpt_seq = -1
        self._offset = wal.WAL_HEADER_SIZE
        self._page_size = 4096
        self._previous = ""
        self._index = 0
        self._restart_expected = False
        self._snapshot_at = 0.0
        self._cond = threading.Condition()
        self._started = 0
        self._done = 0
        self._wake = False
        self._stop = False
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- the lock dance -----------------------------------------------------------------
    def _pin(self) -> None:
        self._reader.execute("BEGIN")
        self._reader.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()

    def _unpin(self) -> None:
        if self._reader.in_transaction:
            self._reader.execute("COMMIT")

    def _full_checkpoint(self) -> bool:
        busy, log, done = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(busy == 0 and (log == done or log <= 0))

    # -- generations ----------------------------------------------------------------------
    def _snapshot_locked(self) -> None:
        """With the writer lock held and the log fully checkpointed, the file is the state."""
        header = wal.read_header(self.wal_path)
        body = self.database.read_bytes()
        generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        self._page_size = int.from_bytes(body[16:18], "big") or 4096
        if self._page_size == 1:
            self._page_size = 65536
        meta = {
            "kind": "snapshot",
            "generation": generation,
            "created_at": datetime.now(UTC).isoformat(),
            "page_size": self._page_size,
            "body_sha256": digest(body),
            "size": len(body),
        }
        self._previous = put_sealed(self.location, self.key, snapshot_name(generation), meta, body)
        self._index = 0
        self._salts = header.salts if header else None
        self._ckpt_seq = header.checkpoint_seq if header else -1
        self._offset = wal.read_committed(self.wal_path, header, 0).end_offset if header else 0
        # Everything is checkpointed: the next writer may restart the log, legitimately.
        self._restart_expected = True
        self.stats.generation = generation
        self.stats.snapshots += 1
        self._snapshot_at = time.monotonic()

    def _new_generation_locked(self) -> None:
        for _ in range(200):
            if self._full_checkpoint():
                self._snapshot_locked()
                return
            # Another connection is checkpointing, or a reader pins old frames: let it finish.
            self._writer.execute("COMMIT")
            time.sleep(0.01)
            self._writer.execute("BEGIN IMMEDIATE")
        raise RuntimeError("could not checkpoint the database fully to take a snapshot")

    # -- one tick -------------------------------------------------------------------------
    def tick(self) -> int:
        """Ship what was committed since the last tick; returns the number of commits shipped."""
        self._writer.execute("BEGIN IMMEDIATE")
        try:
            self._unpin()
            if not self.stats.generation or time.monotonic() - self._snapshot_at > self.snapshot_every:
                self._new_generation_locked()
            shipped = self._ship_locked()
            if shipped < 0:  # the log restarted under us: begin again from a snapshot
                self._new_generation_locked()
                shipped = 0
            if self.wal_path.exists() and self.wal_path.stat().st_size > self.checkpoint_bytes:
                self._restart_expected = self._full_checkpoint()
            self._pin()
        finally:
            self._writer.execute("COMMIT")
        self.stats.last_tick_at = time.time()
        return shipped

    def _ship_locked(self) -> int:
        header = wal.read_header(self.wal_path)
        if header is None:
            return 0
        if header.salts != self._salts:
            # Our read transaction allows a restart only while every frame of the old log was
            # both shipped and checkpointed; exactly one restart since then keeps the chain.
            if not (self._restart_expected or header.checkpoint_seq == self._ckpt_seq + 1):
                return -1
            self._salts, self._offset = header.salts, wal.WAL_HEADER_SIZE
            self._ckpt_seq = header.checkpoint_seq
        frames = wal.read_committed(self.wal_path, header, self._offset)
        if not frames.commits:
            return 0
        name = segment_name(self.stats.generation, self._index)
        meta = {
            "kind": "segment",
            "index": self._index,
            "previous_sha256": self._previous,
            "shipped_at": datetime.now(UTC).isoformat(),
            "page_size": header.page_size,
            "frames": frames.frames,
            "commits": frames.commits,
            "body_sha256": digest(frames.records),
        }
        self._previous = put_sealed(self.location, self.key, name, meta, frames.records)
        self._index += 1
        self._offset = frames.end_offset
        self._restart_expected = False
        self.stats.segments += 1
        self.stats.frames += frames.frames
        self.stats.commits += frames.commits
        return frames.commits

    def resume_after_restore(self) -> bool:
        """Continue the chain a full restore left off (see restore.write_resume_marker)."""
        from barberpro.ops.recovery.restore import file_fingerprint, resume_marker_path

        marker_path = resume_marker_path(self.database)
        if not marker_path.exists():
            return False
        marker = json.loads(marker_path.read_text())
        marker_path.unlink()
        header = wal.read_header(self.wal_path)
        fingerprint = file_fingerprint(self.database)
        if header is not None or any(marker[k] != v for k, v in fingerprint.items()):
            return False  # the file changed since the restore: a snapshot is the safe start
        self.stats.generation = marker["generation"]
        self._index = int(marker["next_index"])
        self._previous = marker["previous_sha256"]
        self._salts, self._restart_expected = None, True
        self._snapshot_at = time.monotonic()
        with self.database.open("rb") as handle:
            size = int.from_bytes(handle.read(18)[16:18], "big")
        self._page_size = 65536 if size == 1 else size
        return True

    # -- the background loop and synchronous acknowledgement ---------------------------------
    def start(self) -> None:
        self.resume_after_restore()
        self.tick()  # the first generation exists before we report ready
        self._thread = threading.Thread(target=self._run, name="wal-shipper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Ticks begin on a fixed cadence (not `interval` after the previous one ended), so a
        # commit waits at most one interval for its tick, plus that tick's own duration.
        next_due = time.monotonic() + self.interval
        while True:
            with self._cond:
                while not self._wake and not self._stop and time.monotonic() < next_due:
                    self._cond.wait(max(0.0, next_due - time.monotonic()))
                if self._stop:
                    return
                self._wake = False
                self._started += 1
                number = self._started
            began = time.monotonic()
            if began >= next_due:  # a scheduled tick (an on-demand one keeps the schedule)
                next_due += self.interval
                if next_due <= began:  # fell behind: restart the cadence rather than burst
                    next_due = began + self.interval
            try:
                self.tick()
            except Exception as error:
                self.stats.errors = [*self.stats.errors[-99:], f"{type(error).__name__}: {error}"]
                log.error("backup tick failed: %s", error)
                with self._cond:
                    self._failure = error
                    self._done = number
                    self._cond.notify_all()
                time.sleep(min(self.interval, 0.2))
                continue
            with self._cond:
                self._failure = None
                self._done = number
                self._cond.notify_all()

    def wait_durable(self, timeout: float = 10.0) -> None:
        """Block until everything committed before this call is in the backup location."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._started + 1
            self._wake = True
            self._cond.notify_all()
            while self._done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop:
                    raise NotDurable("the backup location did not confirm the write in time")
                self._cond.wait(remaining)
            if self._failure is not None:
                raise NotDurable(f"backup failed: {self._failure}")

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.tick()  # ship the tail on a clean shutdown
        except Exception as error:
            # Shutdown goes on (the database itself is intact); the operator must know.
            self.stats.errors.append(f"{type(error).__name__}: {error}")
            log.error("could not ship the last changes at shutdown: %s", error)
        finally:
            self._unpin()
            for connection in (self._writer, self._reader, self._checkpointer):
                connection.close()
