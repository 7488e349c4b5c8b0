"""Where backups go: a directory (local disk, NFS, a mounted object-store volume)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class BackupLocation(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Store durably: when put() returns, the object survives a crash of this machine."""

    def get(self, name: str) -> bytes: ...

    def list(self, prefix: str) -> list[str]: ...

    def describe(self) -> str: ...


class DirectoryLocation:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object name escapes the backup directory: {name}")
        return path

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # readers never see half an object
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself must survive a crash
        finally:
            os.close(directory)

    def get(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        root = self.root.resolve()
        return sorted(str(p.resolve().relative_to(root)) for p in base.rglob("*")
                      if p.is_file() and not p.name.endswith(".part"))

    def describe(self) -> str:
        return str(self.root)


def open_location(target: str) -> BackupLocation:
    if "://" in target and not target.startswith("file://"):
        raise ValueError(f"unsupported backup location {target.split('://')[0]}:// (use a directory)")
    return DirectoryLocation(Path(target.removeprefix("file://")))
