"""The Redis store: same decisions as the in-process store, exact across 4 API processes, and
one set of threat windows for every replica."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gateway_support import booking_body, gateway_client, redis_url
from sqlalchemy import select

from barberpro.adapters.db import tables as t
from barberpro.adapters.kv.gcra import RatePolicy
from barberpro.adapters.kv.memory import MemoryStore
from barberpro.adapters.kv.redis_store import RedisStore
from barberpro.bootstrap import Platform
from platform_fixtures import SECRET, TenantFixture, make_platform, make_tenant, sqlite_url

pytestmark = pytest.mark.redis


def test_redis_store_contract() -> None:
    store = RedisStore(redis_url(), prefix=f"test-{uuid.uuid4().hex[:8]}:")
    try:
        store.set("a", b"1", ttl=5)
        assert store.get("a") == b"1"
        store.delete("a")
        assert store.get("a") is None
        assert [store.incr("n"), store.incr("n")] == [1, 2]
        assert store.get("n") == b"2"
    finally:
        store.close()


def test_redis_and_memory_limiters_agree_on_a_burst() -> None:
    policy = RatePolicy("p", 100, 60, burst=20)

    async def run(store: RedisStore | MemoryStore) -> list[tuple[bool, int]]:
        out = []
        for _ in range(30):
            decision = await store.rate_limit("k", policy)
            out.append((decision.allowed, decision.remaining))
        peek = await store.rate_limit("k", policy, peek=True)
        out.append((peek.allowed, peek.remaining))
        return out

    shared = RedisStore(redis_url(), prefix=f"test-{uuid.uuid4().hex[:8]}:")
    try:
        redis_answers = asyncio.run(run(shared))
    finally:
        shared.close()
    memory_answers = asyncio.run(run(MemoryStore()))
    # 30 calls take well under the 0.6 s emission interval: both admit exactly the burst.
    assert redis_answers == memory_answers
    assert sum(allowed for allowed, _ in redis_answers[:30]) == 20


def test_redis_and_memory_windows_agree() -> None:
    async def run(store: RedisStore | MemoryStore) -> list[int]:
        counts = [await store.window_add("w", member, 60) for member in ("a", "b", "a", "c")]
        counts.append(await store.window_count("w", 60))
        counts.append(await store.window_count("never", 60))
        claims = [await store.claim("c", 60), await store.claim("c", 60)]
        held = await store.held_for("c")
        return [*counts, *claims, 50 < held <= 60, await store.held_for("free") == 0]

    shared = RedisStore(redis_url(), prefix=f"test-{uuid.uuid4().hex[:8]}:")
    try:
        redis_answers = asyncio.run(run(shared))
    finally:
        shared.close()
    assert redis_answers == asyncio.run(run(MemoryStore())) == [1, 2, 2, 3, 3, 0, True, False, True, True]


def _booking_at(alpha: TenantFixture, i: int) -> dict[str, object]:
    return booking_body(alpha, f"2026-03-03T{10 + i // 2}:{'00' if i % 2 == 0 else '30'}:00-03:00", i, i % 3)


def test_replicas_behind_one_redis_see_one_attacker(platform: Platform, alpha: TenantFixture) -> None:
    """Two API replicas, each with its own Redis client on the same Redis: bookings and failed
    log-ins spread over both add up, and each detection is raised once. With a store per process
    neither replica alone would reach the thresholds (3 of 6 bookings, 3 and 2 of 5 accounts)."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    lenient = {"rate_limit_policies": {"booking-ip": "1000/60", "login-ip": "1000/60"}}
    platform.extras["kv"] = RedisStore(redis_url(), prefix=prefix)
    with gateway_client(platform, **lenient) as first:
        platform.extras["kv"] = RedisStore(redis_url(), prefix=prefix)
        with gateway_client(platform, **lenient) as second:
            replicas = [first, second]
            created = [replicas[i % 2].post("/api/v1/bookings", json=_booking_at(alpha, i)) for i in range(6)]
            assert [r.status_code for r in created] == [201] * 6
            for replica in replicas:  # the address is throttled on both
                refused = replica.post("/api/v1/bookings", json=booking_body(alpha, "2026-03-04T10:00:00-03:00", 9))
                assert refused.status_code == 429 and refused.json()["type"].endswith("/booking-throttled")
            for i in range(5):
                body = {"email": f"nobody{i}@alpha.example.com", "password": "wrong password!"}
                assert replicas[i % 2].post("/api/v1/auth/tokens", json=body).status_code == 401
    with platform.database.engine.connect() as connection:
        abuse = connection.execute(
            select(t.audit_log.c.after).where(t.audit_log.c.action == "BookingAbuseDetected")
        ).all()
        stuffing = connection.execute(
            select(t.security_events.c.count).where(t.security_events.c.kind == "credential_stuffing_ip")
        ).all()
    assert len(abuse) == 1 and abuse[0].after["created"] == 6
    assert sum(row.count for row in stuffing) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_four_processes_share_one_limit(tmp_path: Path) -> None:
    url = redis_url()
    database = sqlite_url(tmp_path)
    platform = make_platform(database, tmp_path)
    slug = f"rl{uuid.uuid4().hex[:8]}"  # fresh host: fresh rate-limit keys in the shared Redis
    make_tenant(platform, slug, barbers=1)
    platform.close()
    env = {
        **os.environ,
        "BARBERPRO_DATABASE_URL": database,
        "BARBERPRO_SECRET_KEY": SECRET,
        "BARBERPRO_VAR_DIR": str(tmp_path),
        "BARBERPRO_REDIS_URL": url,
        "BARBERPRO_RATE_LIMIT_ENABLED": "true",
        "BARBERPRO_RATE_LIMIT_POLICIES": '{"public-ip": "100/60"}',
        "BARBERPRO_LOAD_SHEDDING_ENABLED": "false",
        "BARBERPRO_LOG_LEVEL": "WARNING",
    }
    ports = [_free_port() for _ in range(4)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "barberpro.entrypoints.http.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "API processes did not start"
                time.sleep(0.1)
        statuses, elapsed = asyncio.run(_hammer(ports, f"{slug}.example.com", 5_000))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
    admitted = statuses.count(200)
    assert statuses.count(200) + statuses.count(429) == 5_000
    # GCRA admits the burst (100) plus one request per 0.6 s emission interval after the first.
    expected = 100 + elapsed / 0.6
    assert abs(admitted - expected) <= max(1.0, 0.01 * expected), (admitted, expected, elapsed)


async def _hammer(ports: list[int], host: str, total: int) -> tuple[list[int], float]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    clients = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", headers={"host": host}, limits=limits, timeout=30)
        for p in ports
    ]
    semaphore = asyncio.Semaphore(48)
    stamps: list[float] = []

    async def one(i: int) -> int:
        async with semaphore:
            stamps.append(time.monotonic())
            response = await clients[i % len(clients)].get("/api/v1/tenant")
            return response.status_code

    try:
        statuses = await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        for client in clients:
            await client.aclose()
    return list(statuses), max(stamps) - min(stamps)
