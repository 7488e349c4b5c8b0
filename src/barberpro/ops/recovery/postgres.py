"""PostgreSQL: sealed base backups and WAL archive objects in the same backup locations.

PostgreSQL does the real work (pg_basebackup, archive_command, restore_command, recovery
to `recovery_target_time`, streaming replication); these helpers only move its files in
and out of a location encrypted and checksummed, the way the SQLite chain is:

    postgres/base/<label>.tar    a sealed tar of a pg_basebackup plain-format directory
    postgres/wal/<segment name>  a sealed WAL segment (or .history / .backup file)
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from barberpro.ops.recovery.locations import BackupLocation
from barberpro.ops.recovery.sealing import digest, seal, unseal


class ArchiveConflict(RuntimeError):
    """A WAL file of that name is archived already with different content."""


def wal_name(segment: str) -> str:
    if "/" in segment or segment.startswith("."):
        raise ValueError(f"not a WAL file name: {segment}")
    return f"postgres/wal/{segment}"


def archive_wal(location: BackupLocation, key: bytes, path: Path, segment: str) -> bool:
    """archive_command: store one WAL file; archiving the same content twice is a success.

    PostgreSQL retries a failed archive_command forever, and may re-send a file it already
    archived after a crash: identical content is fine, different content must never
    overwrite what a restore may depend on.
    """
    name = wal_name(segment)
    data = path.read_bytes()
    try:
        existing = unseal(location.get(name), key, name)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if digest(existing) == digest(data):
            return False
        raise ArchiveConflict(f"{name} is archived already with different content")
    location.put(name, seal(data, key, name))
    return True


def fetch_wal(location: BackupLocation, key: bytes, segment: str, destination: Path) -> bool:
    """restore_command: False when the file is not in the archive (the end of recovery)."""
    name = wal_name(segment)
    try:
        blob = location.get(name)
    except FileNotFoundError:
        return False
    destination.write_bytes(unseal(blob, key, name))  # SealError: corrupted -> recovery stops
    return True


def put_base_backup(location: BackupLocation, key: bytes, directory: Path, label: str) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(directory, arcname=".")
    name = f"postgres/base/{label}.tar"
    location.put(name, seal(buffer.getvalue(), key, name))
    return name


def latest_base_backup(location: BackupLocation) -> str:
    names = [n for n in location.list("postgres/base") if n.endswith(".tar")]
    if not names:
        raise FileNotFoundError("no PostgreSQL base backup in the location")
    return sorted(names)[-1]


def get_base_backup(location: BackupLocation, key: bytes, name: str, target: Path) -> None:
    plain = unseal(location.get(name), key, name)  # SealError: corrupted or foreign
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty")
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as archive:
        archive.extractall(target, filter="data")


def archive_command_for_spool(spool: Path) -> str:
    """An archive_command that needs nothing but coreutils in the server's environment.

    PostgreSQL copies each finished segment into a local spool (durably: sync before the
    rename is reported); `ship_spool` then seals it into the location and removes it. The
    server never waits for the remote location, and the spool is the bounded buffer.
    """
    return f"test ! -f {spool}/%f && cp %p {spool}/%f.part && sync {spool}/%f.part && mv {spool}/%f.part {spool}/%f"


def ship_spool(location: BackupLocation, key: bytes, spool: Path) -> list[str]:
    """Seal every complete file in the spool into the location, then delete it locally."""
    shipped = []
    for path in sorted(spool.iterdir()):
        if path.name.endswith(".part") or not path.is_file():
            continue
        archive_wal(location, key, path, path.name)
        path.unlink()
        shipped.append(path.name)
    return shipped


def fetch_all_wal(location: BackupLocation, key: bytes, staging: Path) -> int:
    """Unseal the whole WAL archive into a staging directory for `restore_command = cp`."""
    staging.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in location.list("postgres/wal"):
        segment = name.rsplit("/", 1)[1]
        if fetch_wal(location, key, segment, staging / segment):
            count += 1
    return count
