"""No double booking, ever: 50+ concurrent requests for one barber and overlapping times."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from live_server import live_server
from sqlalchemy import text

from barberpro.bootstrap import Platform
from barberpro.domain.booking import Booking, BookingStatus
from barberpro.domain.errors import SlotUnavailable
from barberpro.domain.identifiers import new_id
from platform_fixtures import TenantFixture

REQUESTS = 60


def _fire(base: str, bodies: list[dict]) -> list[httpx.Response]:
    """All requests at once: threads wait on a barrier, then post together.

    Threads rather than asyncio: a browser test session may own the main thread's loop.
    """
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> httpx.Response:
        with httpx.Client(base_url=base, headers={"host": "alpha.example.com"}, timeout=60) as client:
            barrier.wait()
            return client.post("/api/v1/bookings", json=body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _body(t: TenantFixture, start: str, barber_id: str | None, index: int) -> dict:
    return {
        "shop_id": t.shop_id,
        "service_id": t.service_id,
        "barber_id": barber_id,
        "start": start,
        "customer": {
            "name": f"Cliente {index}",
            "phone": f"+54 9 11 4{index:03d}-{index:04d}",
            "email": f"c{index}@example.com",
        },
    }


def _live_bookings(platform: Platform) -> list[tuple[str, object]]:
    with platform.database.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(text("SELECT barber_id, starts_at FROM bookings WHERE status <> 'cancelled'"))
        ]


def test_same_barber_overlapping_times_exactly_one_wins(platform: Platform, alpha: TenantFixture) -> None:
    barber = alpha.barber_ids[0]
    # 10:00, 10:15 and 10:30 all overlap a 30-minute service with a 10-minute buffer at 10:00 or 10:15.
    starts = ["2026-03-03T10:00:00-03:00", "2026-03-03T10:15:00-03:00"]
    bodies = [_body(alpha, starts[i % 2], barber, i) for i in range(REQUESTS)]
    with live_server(platform) as base:
        responses = _fire(base, bodies)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: REQUESTS - 1}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/slot-unavailable")
    assert len(_live_bookings(platform)) == 1


def test_any_barber_race_is_spread_never_doubled(platform: Platform, alpha: TenantFixture) -> None:
    start = "2026-03-03T11:00:00-03:00"
    bodies = [_body(alpha, start, None, i) for i in range(REQUESTS)]
    with live_server(platform) as base:
        responses = _fire(base, bodies)
    statuses = Counter(r.status_code for r in responses)
    barbers = len(alpha.barber_ids)
    assert statuses == {201: barbers, 409: REQUESTS - barbers}, statuses
    winners = [r.json()["barber_id"] for r in responses if r.status_code == 201]
    assert sorted(winners) == sorted(alpha.barber_ids)
    booked = _live_bookings(platform)
    assert len(booked) == barbers and len({b for b, _ in booked}) == barbers


def test_crossed_overlapping_inserts_lose_the_slot_instead_of_failing(platform: Platform, alpha: TenantFixture) -> None:
    """Two transactions each hold one booking and then ask for the other's time: each waits on the
    other's uncommitted row, a deadlock PostgreSQL breaks by failing one of them. Both must end in
    a clean "slot taken" (never a server error) with their first booking kept."""
    if platform.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: two write transactions never interleave")
    barber = alpha.barber_ids[0]

    def block(hour: int) -> Booking:
        start = datetime(2026, 3, 3, hour, tzinfo=UTC)
        return Booking(id=new_id(), tenant_id=alpha.tenant_id, shop_id=alpha.shop_id, barber_id=barber,
                       service_id=None, customer_id=None, start=start, end=start + timedelta(minutes=30),
                       blocks_until=start + timedelta(minutes=30), status=BookingStatus.CONFIRMED,
                       price=Decimal(0), created_at=start - timedelta(days=1), kind="block")  # fmt: skip

    first_written = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(name: str, own: Booking, other: Booking, delay: float) -> None:
        uow = platform.uow(alpha.tenant_id)
        with uow:
            uow.bookings.add(own)
            first_written.wait()
            time.sleep(delay)  # the second writer asks once the first is already waiting
            try:
                uow.bookings.add(replace(other, id=new_id()))
                outcomes[name] = "booked"
            except SlotUnavailable:
                outcomes[name] = "lost"
            uow.commit()

    ten, eleven = block(13), block(14)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(writer, "a", ten, eleven, 0.0), pool.submit(writer, "b", eleven, ten, 0.5)]
        for future in futures:
            future.result(timeout=60)  # a server error in either writer fails here
    assert outcomes == {"a": "lost", "b": "lost"}
    assert sorted(starts for _, starts in _live_bookings(platform)) == [ten.start, eleven.start]
