"""Restore an SQLite database from a backup chain: to the latest state or to a point in time."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from barberpro.ops.recovery.chain import BrokenChain, generations, link, read_chain
from barberpro.ops.recovery.locations import BackupLocation
from barberpro.ops.recovery.wal import apply_records


@dataclass(frozen=True)
class RestoreReport:
    path: str
    generation: str
    segments: int
    transactions: int
    last_shipped_at: str | None
    integrity: str
    seconds: float


def _pick_generation(location: BackupLocation, key: bytes, at: datetime | None) -> str:
    from barberpro.ops.recovery.chain import snapshot_name, unpack
    from barberpro.ops.recovery.sealing import unseal

    found = generations(location)
    if not found:
        raise BrokenChain(f"no backup generation in {location.describe()}")
    if at is None:
        return found[-1]
    for generation in reversed(found):
        name = snapshot_name(generation)
        meta, _ = unpack(unseal(location.get(name), key, name))
        if datetime.fromisoformat(meta["created_at"]) <= at:
            return generation
    raise BrokenChain(f"no snapshot was taken before {at.isoformat()}")


def restore(
    location: BackupLocation,
    key: bytes,
    target: Path,
    *,
    at: datetime | None = None,
    generation: str | None = None,
    full_check: bool = False,
) -> RestoreReport:
    """Rebuild the database at `target` (which must not exist) and check its integrity."""
    started = time.monotonic()
    if target.exists():
        raise FileExistsError(f"{target} exists: restore writes to a new path")
    chosen = generation or _pick_generation(location, key, at)
    partial = target.with_name(target.name + ".restoring")
    partial.unlink(missing_ok=True)
    segments = transactions = 0
    last_shipped: str | None = None
    tail: dict[str, object] = {}
    try:
        pieces = read_chain(location, key, chosen, until=at, snapshot_into=partial)
        snapshot = next(pieces)
        page_size = int(snapshot.meta["page_size"])
        tail = {"index": -1, "sha256": link(snapshot.meta)}
        for piece in pieces:
            transactions += apply_records(partial, piece.body, page_size)
            segments += 1
            last_shipped = piece.meta["shipped_at"]
            tail = {"index": piece.meta["index"], "sha256": link(piece.meta)}
        integrity = check_integrity(partial, full=full_check)
        if integrity != "ok":
            raise BrokenChain(f"the restored database fails its integrity check: {integrity}")
        os.replace(partial, target)
        if at is None and generation is None:
            write_resume_marker(target, chosen, int(str(tail["index"])) + 1, str(tail["sha256"]))
    finally:
        partial.unlink(missing_ok=True)
    return RestoreReport(
        str(target), chosen, segments, transactions, last_shipped, integrity, round(time.monotonic() - started, 3)
    )


def resume_marker_path(database: Path) -> Path:
    return database.with_name(database.name + ".backup-chain.json")


def file_fingerprint(database: Path) -> dict[str, int]:
    """Size and SQLite's file change counter: enough to tell the restored file was not touched."""
    with database.open("rb") as handle:
        header = handle.read(100)
    return {"size": database.stat().st_size, "change_counter": int.from_bytes(header[24:28], "big")}


def write_resume_marker(database: Path, generation: str, next_index: int, previous_sha256: str) -> None:
    """Lets the next shipper on this file continue the same chain instead of a new snapshot.

    Only a restore to the end of the latest chain writes it: after a point-in-time restore
    the chain has later segments of another timeline, so a new generation must start.
    """
    marker = {
        "generation": generation,
        "next_index": next_index,
        "previous_sha256": previous_sha256,
        **file_fingerprint(database),
    }
    resume_marker_path(database).write_text(json.dumps(marker))


def check_integrity(path: Path, *, full: bool = False) -> str:
    """`quick_check` by default (O(pages), skips index cross-checks), `integrity_check` when asked."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
        fk = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    result = "; ".join(str(r[0]) for r in rows)
    if result == "ok" and fk:
        return f"{len(fk)} foreign key violations"
    return result
