"""The moving parts of a DR drill: a real server process, a real booking load, an ack log.

The server is `barberpro backup serve` (the API with continuous backup) in a subprocess,
so the drill can SIGKILL it. Clients book real slots over HTTP and append every
acknowledgement (HTTP 201) to a log that lives outside the server's data directory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

CLI = [sys.executable, "-m", "barberpro.entrypoints.cli.main"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run([*CLI, *args], env=env, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=600)


class ServerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**env, "BARBERPRO_PORT": str(self.port)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*CLI, "backup", "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 300.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server not ready after {timeout}s; see {self.log}")

    def kill(self) -> float:
        """SIGKILL: no shutdown hook runs, nothing is flushed or shipped."""
        assert self.process is not None
        moment = time.monotonic()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        return moment

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Slot:
    shop_id: str
    service_id: str
    barber_id: str
    start: str


def collect_slots(base: str, wanted: int) -> list[Slot]:
    """Free, non-overlapping slots of the demo tenant, from its public availability API."""
    slots: list[Slot] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        shops = client.get("/api/v1/shops").json()
        shops = shops.get("items", shops) if isinstance(shops, dict) else shops
        for day_offset in range(2, 58):
            day = (date.today() + timedelta(days=day_offset)).isoformat()
            for shop in shops:
                services = client.get(f"/api/v1/shops/{shop['id']}/services").json()
                services = services.get("items", services) if isinstance(services, dict) else services
                service = services[0]
                found = client.get(
                    f"/api/v1/shops/{shop['id']}/availability", params={"service_id": service["id"], "date": day}
                ).json()["slots"]
                busy_until: dict[str, datetime] = {}
                for s in found:
                    start, end = datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])
                    if busy_until.get(s["barber_id"], start) <= start:
                        slots.append(Slot(shop["id"], service["id"], s["barber_id"], s["start"]))
                        # Services carry a clean-up buffer after `end`: leave room for it.
                        busy_until[s["barber_id"]] = end + timedelta(minutes=30)
            if len(slots) >= wanted:
                return slots[:wanted]
    return slots


class AckLog:
    """Acknowledged bookings, appended and flushed as they arrive (outside the blast radius)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle = path.open("a")
        self.entries: list[dict[str, Any]] = []

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.entries.append(entry)
            self._handle.write(json.dumps(entry) + "\n")
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class BookingLoad:
    """Client threads that book slots until stopped; each 201 goes to the ack log."""

    def __init__(self, base: str, slots: list[Slot], acks: AckLog, clients: int = 4) -> None:
        self.base = base
        self.slots = slots
        self.acks = acks
        self.clients = clients
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors = 0
        self.refused = 0

    def _take(self) -> Slot | None:
        with self._lock:
            if self._next >= len(self.slots):
                return None
            self._next += 1
            return self.slots[self._next - 1]

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.base, timeout=5.0) as client:
            while not self._stop.is_set():
                slot = self._take()
                if slot is None:
                    return
                phone = f"+54 9 11 {4000 + number}-{self._next % 10000:04d}"
                body = {
                    "shop_id": slot.shop_id,
                    "service_id": slot.service_id,
                    "barber_id": slot.barber_id,
                    "start": slot.start,
                    "customer": {"name": "Cliente Simulacro", "phone": phone, "email": "drill@example.com"},
                }
                try:
                    response = client.post(
                        "/api/v1/bookings",
                        json=body,
                        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": customer_address()},
                    )
                except httpx.HTTPError:
                    self.errors += 1
                    time.sleep(0.05)
                    continue
                if response.status_code == 201:
                    booking = response.json()
                    self.acks.add(
                        {
                            "id": booking["id"],
                            "acked_at": time.monotonic(),
                            "barber_id": slot.barber_id,
                            "shop_id": slot.shop_id,
                            "start": booking["start"],
                            "status": booking["status"],
                        }
                    )
                else:
                    self.refused += 1

    def remaining(self) -> int:
        with self._lock:
            return len(self.slots) - self._next

    def start(self) -> None:
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


def customer_address() -> str:
    """A distinct documentation-range address per booking, sent only as a header value.

    Real bookings come from many customers; from one address the gateway's abuse detector
    would (rightly) throttle the load. The server trusts one proxy hop in the drill.
    """
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def first_booking(base: str, slot: Slot, timeout: float = 120.0) -> float:
    """Try until the restored server acknowledges one booking; returns that moment."""
    deadline = time.monotonic() + timeout
    body = {
        "shop_id": slot.shop_id,
        "service_id": slot.service_id,
        "barber_id": slot.barber_id,
        "start": slot.start,
        "customer": {"name": "Primera Tras Restaurar", "phone": "+54 9 11 5999-0001", "email": "drill@example.com"},
    }
    key = str(uuid.uuid4())
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.post(
                f"{base}/api/v1/bookings",
                json=body,
                timeout=2.0,
                headers={"Idempotency-Key": key, "X-Forwarded-For": customer_address()},
            )
            if response.status_code == 201:
                return time.monotonic()
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.02)
    raise TimeoutError(f"the restored server acknowledged no booking; last answer: {last}")
