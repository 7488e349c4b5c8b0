"""The layout of a backup chain in a location, and reading it back with every check.

    generations/<id>/snapshot        sealed database file, consistent at a WAL position
    generations/<id>/segments/<n>    sealed batch of committed WAL frames, n = 0, 1, 2 ...

Every object is sealed (see sealing.py) and starts with a JSON line describing it; each
segment names the SHA-256 of the object before it, so a missing, reordered or swapped
object breaks the chain and restore refuses it with the object's name.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from barberpro.ops.recovery.locations import BackupLocation
from barberpro.ops.recovery.sealing import digest, seal, unseal, unseal_chunks


class BrokenChain(ValueError):
    """The backup chain cannot be restored as it is (missing, corrupted or foreign objects)."""


def snapshot_name(generation: str) -> str:
    return f"generations/{generation}/snapshot"


def segment_name(generation: str, index: int) -> str:
    return f"generations/{generation}/segments/{index:012d}"


def pack(meta: dict[str, Any], body: bytes) -> bytes:
    return json.dumps(meta, sort_keys=True).encode() + b"\n" + body


def unpack(plain: bytes) -> tuple[dict[str, Any], bytes]:
    line, _, body = plain.partition(b"\n")
    return json.loads(line), body


def link(meta: dict[str, Any]) -> str:
    """What the next object names as its predecessor: the hash of this one's description,
    which includes the SHA-256 of its body (one pass over a large body, not two)."""
    return digest(json.dumps(meta, sort_keys=True).encode())


def put_sealed(location: BackupLocation, key: bytes, name: str, meta: dict[str, Any], body: bytes) -> str:
    location.put(name, seal(pack(meta, body), key, name))
    return link(meta)


def generations(location: BackupLocation) -> list[str]:
    """Generation ids, oldest first (ids start with a UTC timestamp, so they sort by time)."""
    names = {n.split("/")[1] for n in location.list("generations") if n.endswith("/snapshot")}
    return sorted(names)


@dataclass
class Piece:
    name: str
    meta: dict[str, Any]
    body: bytes


def _snapshot_into(blob: bytes, key: bytes, name: str, target: Path) -> dict[str, Any]:
    """Decrypt, hash and write the snapshot chunk by chunk (no 600 MB intermediate copies)."""
    chunks = unseal_chunks(blob, key, name)
    line, _, rest = next(chunks).partition(b"\n")
    meta: dict[str, Any] = json.loads(line)
    hasher = hashlib.sha256()
    with target.open("wb") as out:
        for part in itertools.chain([rest], chunks):
            hasher.update(part)
            out.write(part)
        out.flush()
        os.fsync(out.fileno())  # the restored file must be on disk before it replaces anything
    if hasher.hexdigest() != meta["body_sha256"]:
        raise BrokenChain(f"{name}: checksum mismatch")
    return meta


def read_chain(
    location: BackupLocation,
    key: bytes,
    generation: str,
    until: datetime | None = None,
    snapshot_into: Path | None = None,
) -> Iterator[Piece]:
    """Yield the snapshot, then each segment in order, checking seal, checksum and links.

    With `snapshot_into`, the snapshot's body is written to that file instead of being
    returned (its Piece has an empty body).
    """
    name = snapshot_name(generation)
    try:
        blob = location.get(name)
        if snapshot_into is not None:
            meta, body = _snapshot_into(blob, key, name, snapshot_into), b""
        else:
            meta, body = unpack(unseal(blob, key, name))
            if digest(body) != meta["body_sha256"]:
                raise BrokenChain(f"{name}: checksum mismatch")
    except FileNotFoundError as error:
        raise BrokenChain(f"{name}: missing") from error
    except BrokenChain:
        raise
    except ValueError as error:
        raise BrokenChain(str(error)) from error
    del blob
    yield Piece(name, meta, body)
    previous = link(meta)
    names = location.list(f"generations/{generation}/segments")
    indices = sorted(int(n.rsplit("/", 1)[1]) for n in names)
    if indices and indices != list(range(indices[-1] + 1)):
        missing = sorted(set(range(indices[-1] + 1)) - set(indices))
        raise BrokenChain(f"{segment_name(generation, missing[0])}: missing (incomplete chain)")
    for index in indices:
        name = segment_name(generation, index)
        try:
            plain = unseal(location.get(name), key, name)
        except ValueError as error:
            raise BrokenChain(str(error)) from error
        meta, body = unpack(plain)
        if meta.get("previous_sha256") != previous or meta.get("index") != index:
            raise BrokenChain(f"{name}: does not follow the object before it (reordered or foreign)")
        if digest(body) != meta["body_sha256"]:
            raise BrokenChain(f"{name}: checksum mismatch")
        if until is not None and datetime.fromisoformat(meta["shipped_at"]) > until:
            return
        previous = link(meta)
        yield Piece(name, meta, body)
