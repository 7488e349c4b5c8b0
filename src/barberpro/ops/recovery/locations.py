"""Where backups go: a directory (local disk, NFS) or any S3-compatible object store."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit


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
        return sorted(
            str(p.resolve().relative_to(root)) for p in base.rglob("*") if p.is_file() and not p.name.endswith(".part")
        )

    def describe(self) -> str:
        return str(self.root)


class S3Location:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...), objects under a prefix.

    A PUT that returns 200 is durable in the store; objects are written whole (S3 has no
    partial objects), so readers never see half a segment. Credentials come from the usual
    AWS environment variables or profile; `endpoint_url` points at a non-AWS store.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            import boto3  # imported here: only S3 users pay for it
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region or os.environ.get("AWS_REGION", "us-east-1"),
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url

    def _key(self, name: str) -> str:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"object name escapes the backup prefix: {name}")
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, data: bytes) -> None:
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        # Content-MD5 makes the store verify the bytes it received before it acknowledges.
        self._client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, ContentMD5=digest)

    def get(self, name: str) -> bytes:
        response = self._client.get_object(Bucket=self.bucket, Key=self._key(name))
        body: bytes = response["Body"].read()
        return body

    def list(self, prefix: str) -> list[str]:
        start = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        names: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            names.extend(item["Key"][strip:] for item in page.get("Contents", []))
        return sorted(names)

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"


def open_location(target: str) -> BackupLocation:
    """`/path`, `file:///path`, or `s3://bucket/prefix` (endpoint from BARBERPRO_BACKUP_S3_ENDPOINT)."""
    if target.startswith("s3://"):
        parsed = urlsplit(target)
        if not parsed.netloc:
            raise ValueError("an S3 location needs a bucket: s3://bucket/prefix")
        return S3Location(parsed.netloc, parsed.path, endpoint_url=os.environ.get("BARBERPRO_BACKUP_S3_ENDPOINT"))
    if "://" in target and not target.startswith("file://"):
        raise ValueError(f"unsupported backup location {target.split('://')[0]}:// (use a directory or s3://)")
    return DirectoryLocation(Path(target.removeprefix("file://")))
