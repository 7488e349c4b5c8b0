"""Synchronous mode over ASGI: a write is acknowledged only once durable, else 503."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from barberpro.ops.recovery.continuous import ContinuousBackupMiddleware
from barberpro.ops.recovery.locations import DirectoryLocation
from barberpro.ops.recovery.restore import restore
from barberpro.ops.recovery.sealing import load_key, new_key
from barberpro.ops.recovery.shipper import WalShipper

KEY = load_key(new_key())


class FullDisk(DirectoryLocation):
    """A backup location that accepts the first `budget` objects, then fails like a full disk."""

    def __init__(self, root: Path, budget: int) -> None:
        super().__init__(root)
        self.budget = budget

    def put(self, name: str, data: bytes) -> None:
        if self.budget <= 0:
            raise OSError(28, "No space left on device")
        self.budget -= 1
        super().put(name, data)


def booking_app(database: Path) -> Starlette:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database, isolation_level=None, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    setup = connect()
    setup.execute("CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY, who TEXT)")
    setup.close()

    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        connection = connect()
        cursor = connection.execute("INSERT INTO bookings (who) VALUES (?)", (body["who"],))
        connection.close()
        return JSONResponse({"id": cursor.lastrowid}, status_code=201)

    return Starlette(routes=[Route("/bookings", create, methods=["POST"])])


def served(database: Path, location: DirectoryLocation, timeout: float = 2.0) -> TestClient:
    app = ContinuousBackupMiddleware(
        booking_app(database),
        factory=lambda: WalShipper(database, location, KEY, interval=30.0),
        mode="sync",
        ack_timeout=timeout,
    )
    return TestClient(app)


def test_every_acknowledged_write_is_already_in_the_backup(tmp_path: Path) -> None:
    database = tmp_path / "primary.db"
    location = DirectoryLocation(tmp_path / "backup")
    with served(database, location) as client:  # the 30 s interval: only acks make ticks
        acknowledged = []
        for number in range(25):
            response = client.post("/bookings", json={"who": f"cliente {number}"})
            assert response.status_code == 201
            acknowledged.append(response.json()["id"])
            # Restore right now, while the server is still running: the ack implies the copy.
            if number % 8 == 0:
                target = tmp_path / f"check-{number}.db"
                restore(location, KEY, target)
                rows = {r[0] for r in sqlite3.connect(target).execute("SELECT id FROM bookings")}
                assert set(acknowledged) <= rows


def test_a_write_the_location_cannot_store_is_not_acknowledged(tmp_path: Path) -> None:
    database = tmp_path / "primary.db"
    location = FullDisk(tmp_path / "backup", budget=2)  # the snapshot and one segment
    with served(database, location, timeout=1.0) as client:
        assert client.post("/bookings", json={"who": "primera"}).status_code == 201
        refused = client.post("/bookings", json={"who": "segunda"})
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert "Idempotency-Key" in refused.json()["detail"]
