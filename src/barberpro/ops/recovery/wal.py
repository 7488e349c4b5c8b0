"""Reading committed frames out of an SQLite write-ahead log, and applying them to a copy.

File format: https://www.sqlite.org/fileformat2.html#walformat. A 32-byte header (magic,
version, page size, checkpoint sequence, two salts, checksum), then frames of a 24-byte
header (page number, database size in pages for a commit frame else 0, the two salts,
checksum) followed by one page. A frame belongs to the current log only when its salts
equal the header's; a transaction is committed once its frame with a non-zero size is
written. The shipper reads while it holds SQLite's writer lock, so no frame is in flight.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER = struct.Struct(">IIIIII")  # magic, version, page size, ckpt seq, salt1, salt2
FRAME_HEADER = struct.Struct(">IIII")  # page number, commit size, salt1, salt2
WAL_HEADER_SIZE = 32
FRAME_HEADER_SIZE = 24
MAGICS = (0x377F0682, 0x377F0683)
RECORD = struct.Struct(">II")  # how a shipped frame is stored: page number, commit size


@dataclass(frozen=True)
class WalHeader:
    page_size: int
    checkpoint_seq: int
    salts: bytes


@dataclass(frozen=True)
class CommittedFrames:
    records: bytes  # RECORD + page, for every frame up to and including the last commit
    frames: int
    commits: int
    end_offset: int  # where the next unread frame starts


def read_header(wal: Path) -> WalHeader | None:
    try:
        with wal.open("rb") as handle:
            raw = handle.read(WAL_HEADER_SIZE)
    except FileNotFoundError:
        return None
    if len(raw) < WAL_HEADER_SIZE:
        return None
    magic, _version, page_size, ckpt, _s1, _s2 = WAL_HEADER.unpack(raw[:24])
    if magic not in MAGICS:
        raise ValueError(f"{wal} is not an SQLite WAL file")
    return WalHeader(page_size if page_size != 1 else 65536, ckpt, raw[16:24])


def read_committed(wal: Path, header: WalHeader, offset: int) -> CommittedFrames:
    """Frames from `offset` up to the last commit frame that carries the header's salts."""
    frame_size = FRAME_HEADER_SIZE + header.page_size
    offset = max(offset, WAL_HEADER_SIZE)
    chunks: list[bytes] = []
    pending: list[bytes] = []
    frames = commits = 0
    end = offset
    with wal.open("rb") as handle:
        handle.seek(offset)
        position = offset
        while True:
            raw = handle.read(frame_size)
            if len(raw) < frame_size or raw[8:16] != header.salts:
                break
            page_no, commit_size, _, _ = FRAME_HEADER.unpack(raw[:16])
            pending.append(RECORD.pack(page_no, commit_size) + raw[FRAME_HEADER_SIZE:])
            position += frame_size
            if commit_size:
                chunks.extend(pending)
                frames += len(pending)
                commits += 1
                pending = []
                end = position
    return CommittedFrames(b"".join(chunks), frames, commits, end)


def iter_records(records: bytes, page_size: int) -> Iterator[tuple[int, int, bytes]]:
    step = RECORD.size + page_size
    if len(records) % step:
        raise ValueError("a shipped segment has a partial frame")
    for start in range(0, len(records), step):
        page_no, commit_size = RECORD.unpack_from(records, start)
        yield page_no, commit_size, records[start + RECORD.size : start + step]


def apply_records(database: Path, records: bytes, page_size: int) -> int:
    """Write each committed transaction's pages into the database file, as a checkpoint would."""
    applied = 0
    pending: list[tuple[int, bytes]] = []
    with database.open("r+b") as handle:
        for page_no, commit_size, page in iter_records(records, page_size):
            pending.append((page_no, page))
            if not commit_size:
                continue
            for number, data in pending:
                handle.seek((number - 1) * page_size)
                handle.write(data)
            handle.truncate(commit_size * page_size)
            pending = []
            applied += 1
        handle.flush()
        os.fsync(handle.fileno())
    if pending:
        raise ValueError("a shipped segment ends inside a transaction")
    return applied
