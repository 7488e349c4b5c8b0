"""Backups to an S3-compatible object store, over real HTTP.

The store is moto's S3 server on a loopback port (an S3-compatible implementation from PyPI;
a MinIO server is not available from the package registries here). boto3 talks to it exactly
as it would to MinIO or AWS: signed requests, Content-MD5, pagination.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from barberpro.ops.recovery.chain import BrokenChain
from barberpro.ops.recovery.locations import S3Location, open_location
from barberpro.ops.recovery.restore import restore
from barberpro.ops.recovery.sealing import load_key, new_key
from barberpro.ops.recovery.shipper import WalShipper
from unit.recovery.test_wal_shipping import content, make_source, write

moto_server = pytest.importorskip("moto.server", reason="moto[server] (dev extra) provides the local S3 store")
KEY = load_key(new_key())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> S3Location:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "barberpro-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "barberpro-test-secret")
    monkeypatch.setenv("BARBERPRO_BACKUP_S3_ENDPOINT", endpoint)
    name = f"backups-{request.node.name.replace('_', '-')[:40].lower()}"
    location = open_location(f"s3://{name}/shop-db")
    assert isinstance(location, S3Location)
    location._client.create_bucket(Bucket=name)
    return location


def test_objects_round_trip_under_the_prefix(bucket: S3Location) -> None:
    bucket.put("gen-1/0001.seg", b"one")
    bucket.put("gen-1/0002.seg", b"two")
    bucket.put("gen-2/0001.seg", b"three")
    assert bucket.get("gen-1/0002.seg") == b"two"
    assert bucket.list("gen-1") == ["gen-1/0001.seg", "gen-1/0002.seg"]
    assert bucket.list("") == ["gen-1/0001.seg", "gen-1/0002.seg", "gen-2/0001.seg"]
    raw = bucket._client.list_objects_v2(Bucket=bucket.bucket)["Contents"]
    assert all(item["Key"].startswith("shop-db/") for item in raw)
    with pytest.raises(ValueError, match="escapes"):
        bucket.put("../other/x", b"no")


def test_continuous_backup_to_s3_restores_latest_and_a_point_in_time(bucket: S3Location, tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    shipper = WalShipper(source, bucket, KEY)
    shipper.tick()
    write(app, 0, 50)
    shipper.tick()
    middle = datetime.now(UTC)
    at_middle = content(source)
    write(app, 50, 50, size=500)
    app.execute("DELETE FROM items WHERE id % 4 = 0")
    shipper.tick()
    report = restore(bucket, KEY, tmp_path / "latest.db")
    assert report.integrity == "ok"
    assert content(tmp_path / "latest.db") == content(source)
    restore(bucket, KEY, tmp_path / "pitr.db", at=middle)
    assert content(tmp_path / "pitr.db") == at_middle
    # Encrypted at rest: the store never sees the rows.
    for name in bucket.list(""):
        assert b"xxxxxxxxxx" not in bucket.get(name)
    shipper.stop()


def test_a_tampered_object_is_refused(bucket: S3Location, tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    shipper = WalShipper(source, bucket, KEY)
    shipper.tick()
    write(app, 0, 30)
    shipper.tick()
    shipper.stop()
    segment = next(n for n in bucket.list("") if n.endswith(".seg") or "seg" in n)
    data = bytearray(bucket.get(segment))
    data[-5] ^= 0xFF
    bucket.put(segment, bytes(data))
    with pytest.raises(BrokenChain):
        restore(bucket, KEY, tmp_path / "restored.db")
    assert not (tmp_path / "restored.db").exists()
