"""Availability: compute every slot of one service for 30 days, 10 barbers, 2,000 existing bookings.

Prints JSON. Two measurements:
- `domain`: the pure slot computation (what the target "< 20 ms median" is about);
- `end_to_end_sqlite`: the application query for each of the 30 days through the real SQLite
  adapter (load schedules, exceptions, bookings; compute), as the API does it.
Baseline in the same run: a naive slot finder that scans every booking for each candidate.

    .venv/bin/python benchmarks/availability_compute.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from barberpro.domain.schedules import WorkingDay, hours_on
from barberpro.domain.slots import BarberWeek, BusyInterval, available_slots
from barberpro.domain.tenancy import BookingPolicy

ZONE = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(30)]
POLICY = BookingPolicy(min_notice=timedelta(hours=1), horizon=timedelta(days=31))
DURATION, BUFFER = timedelta(minutes=30), timedelta(minutes=10)
WEEK = tuple(WorkingDay(d, ((time(9), time(20)),), ((time(13), time(14)),)) for d in range(6))


def make_bookings(barbers: list[str], count: int, rng: random.Random) -> list[BusyInterval]:
    taken: dict[str, list[tuple[datetime, datetime]]] = {b: [] for b in barbers}
    result: list[BusyInterval] = []
    while len(result) < count:
        barber = rng.choice(barbers)
        day = rng.choice(DAYS)
        if day.weekday() == 6:
            continue
        start = datetime.combine(day, time(9), tzinfo=ZONE) + timedelta(minutes=15 * rng.randrange(0, 40))
        end = start + DURATION + BUFFER
        if any(s < end and start < e for s, e in taken[barber]):
            continue
        taken[barber].append((start, end))
        result.append(BusyInterval(barber, start, end))
    return result


def naive_slots(barbers: list[str], busy: list[BusyInterval]) -> int:
    """The obvious implementation: for each candidate, scan every booking of the shop."""
    count = 0
    earliest, latest = NOW + POLICY.min_notice, NOW + POLICY.horizon
    for day in DAYS:
        for barber in barbers:
            for open_start, open_end in hours_on(day, barber, WEEK, []):
                candidate = datetime.combine(day, open_start, tzinfo=ZONE)
                end = datetime.combine(day, open_end, tzinfo=ZONE)
                while candidate + DURATION <= end:
                    if earliest <= candidate <= latest and not any(
                        b.barber_id == barber and b.start < candidate + DURATION + BUFFER and candidate < b.end
                        for b in busy
                    ):
                        count += 1
                    candidate += POLICY.slot_step
    return count


def timed(function, repeat: int) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    samples, result = [], None
    for _ in range(repeat):
        started = clock.perf_counter()
        result = function()
        samples.append((clock.perf_counter() - started) * 1000)
    return samples, result


def end_to_end(repeat: int) -> dict[str, float]:
    from barberpro.adapters.clock import FixedClock
    from barberpro.application import catalog
    from barberpro.application.availability import find_availability
    from barberpro.application.context import Context
    from barberpro.application.provisioning import provision_tenant
    from barberpro.domain.booking import SYSTEM, Actor, ActorKind, Booking, BookingStatus, Role
    from barberpro.domain.identifiers import new_id
    from platform_fixtures import make_platform

    with tempfile.TemporaryDirectory() as tmp:
        platform = make_platform(f"sqlite:///{tmp}/bench.db", Path(tmp), FixedClock(NOW))
        tenant_id = new_id()
        _, owner = provision_tenant(
            platform.uow(tenant_id),
            Context(tenant_id, SYSTEM, "bench", NOW),
            platform.hasher,
            slug="bench",
            name="Bench",
            owner_email="o@bench.example",
            owner_name="Owner",
            owner_password="0123456789ab",
        )
        ctx = Context(tenant_id, Actor(ActorKind.STAFF, owner.id, Role.OWNER), "bench", NOW)
        shop = catalog.create_shop(platform.uow(tenant_id), ctx, name="Bench", address="-", horizon_days=31)
        service = catalog.create_service(
            platform.uow(tenant_id),
            ctx,
            shop_id=shop.id,
            name="Corte",
            duration_minutes=30,
            price="1000",
            buffer_after_minutes=10,
        )
        barbers = []
        for i in range(10):
            barber = catalog.create_barber(platform.uow(tenant_id), ctx, shop_id=shop.id, name=f"B{i}")
            catalog.set_working_hours(platform.uow(tenant_id), ctx, barber_id=barber.id, days=WEEK)
            barbers.append(barber.id)
        with platform.uow(tenant_id) as uow:
            for interval in make_bookings(barbers, 2000, random.Random(7)):
                uow.bookings.add(
                    Booking(
                        id=new_id(),
                        tenant_id=tenant_id,
                        shop_id=shop.id,
                        barber_id=interval.barber_id,
                        service_id=service.id,
                        customer_id=None,
                        start=interval.start.astimezone(UTC),
                        end=interval.end.astimezone(UTC) - BUFFER,
                        blocks_until=interval.end.astimezone(UTC),
                        status=BookingStatus.CONFIRMED,
                        price=service.price,
                        created_at=NOW,
                    )
                )
            uow.commit()

        def month() -> int:
            return sum(
                len(
                    find_availability(
                        platform.uow(tenant_id, write=False),
                        shop_id=shop.id,
                        service_id=service.id,
                        day=d,
                        barber_id=None,
                        now_utc=NOW,
                    )
                )
                for d in DAYS
            )

        samples, _ = timed(month, repeat)
        platform.close()
    return {
        "median_ms_30_days": round(statistics.median(samples), 2),
        "median_ms_per_day_request": round(statistics.median(samples) / 30, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(42)
    barbers = [f"barber-{i}" for i in range(10)]
    busy = make_bookings(barbers, 2000, rng)
    weeks = [BarberWeek(b, WEEK) for b in barbers]

    def ours() -> int:
        return len(
            available_slots(
                zone=ZONE,
                days=DAYS,
                duration=DURATION,
                buffer_after=BUFFER,
                barbers=weeks,
                exceptions=[],
                busy=busy,
                now=NOW,
                policy=POLICY,
            )
        )

    ours_ms, slots = timed(ours, args.repeat)
    naive_ms, naive_count = timed(lambda: naive_slots(barbers, busy), max(3, args.repeat // 10))
    assert slots == naive_count, (slots, naive_count)
    print(
        json.dumps(
            {
                "benchmark": "availability_compute",
                "setup": {
                    "barbers": 10,
                    "days": 30,
                    "existing_bookings": len(busy),
                    "slot_step_min": 15,
                    "service_min": 30,
                    "buffer_min": 10,
                },
                "slots_found": slots,
                "domain": {
                    "median_ms": round(statistics.median(ours_ms), 2),
                    "p90_ms": round(sorted(ours_ms)[int(len(ours_ms) * 0.9) - 1], 2),
                    "runs": len(ours_ms),
                    "target_ms": 20,
                },
                "baseline_naive_scan": {"median_ms": round(statistics.median(naive_ms), 2), "runs": len(naive_ms)},
                "speedup_vs_naive": round(statistics.median(naive_ms) / statistics.median(ours_ms), 1),
                "end_to_end_sqlite": end_to_end(max(3, args.repeat // 5)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
