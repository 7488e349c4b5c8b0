"""Booking throughput with the audit trail on versus off, measured in the same run.

"Off": audit rows are not written (the outbox event still is). "On": audit rows are written
in the booking transaction AND the Merkle publisher runs beside the load, hashing leaves
and signing a tree head every second. Rounds run in ABBA order (off, on, on, off, ...) so
that linear drift (the database grows, the WAL fills) cancels within each group of four;
the cost is the median over groups of 1 - on/off, and the medians are printed as JSON.

    .venv/bin/python benchmarks/audit_throughput.py --rounds 6 --bookings 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from barberpro.adapters.db.repositories import SqlAuditLog
from barberpro.application import bookings
from barberpro.application.availability import find_availability
from barberpro.application.context import Context
from barberpro.bootstrap import build, migrate
from barberpro.config import Settings
from barberpro.domain.booking import Actor, ActorKind
from barberpro.entrypoints.cli.demo_data import seed_demo
from barberpro.ops.audit import trail
from barberpro.ops.audit.heads import HeadStore


def slots(platform: Any, tenant_id: str, wanted: int) -> list[tuple[str, str, Any]]:
    """Free, non-overlapping (shop, service, slot) triples, barber by barber, day by day."""
    with platform.uow(tenant_id, write=False) as uow:
        plan = [
            (shop.id, uow.services.list(shop.id)[0].id, [b.id for b in uow.barbers.list(shop.id)])
            for shop in uow.shops.list()
        ]
    found: list[tuple[str, str, Any]] = []
    for offset in range(2, 59):
        day = date.today() + timedelta(days=offset)
        for shop_id, service_id, barber_ids in plan:
            for barber_id in barber_ids:
                busy = datetime.min.replace(tzinfo=UTC)
                for slot in find_availability(
                    platform.uow(tenant_id, write=False),
                    shop_id=shop_id,
                    service_id=service_id,
                    day=day,
                    barber_id=barber_id,
                    now_utc=datetime.now(UTC),
                ):
                    if slot.start >= busy:
                        found.append((shop_id, service_id, slot))
                        busy = slot.end + timedelta(minutes=30)
        if len(found) >= wanted:
            break
    return found[:wanted]


def book(platform: Any, tenant_id: str, batch: list[tuple[str, str, Any]], tag: str) -> float:
    actor = Actor(ActorKind.CUSTOMER, None, None)
    started = time.perf_counter()
    for number, (shop_id, service_id, slot) in enumerate(batch):
        ctx = Context(tenant_id, actor, f"bench-{tag}-{number}", datetime.now(UTC))
        bookings.book_appointment(
            platform.uow(tenant_id),
            ctx,
            bookings.BookAppointment(
                shop_id=shop_id,
                service_id=service_id,
                barber_id=slot.barber_id,
                start=slot.start,
                customer=bookings.CustomerDetails(
                    "Cliente Medición", f"+54 9 11 4{number % 1000:03d}-{tag[-4:]}", "bench@example.com"
                ),
            ),
        )
    return len(batch) / (time.perf_counter() - started)


class Publisher(threading.Thread):
    def __init__(self, platform: Any, store: HeadStore, key: Ed25519PrivateKey) -> None:
        super().__init__(daemon=True)
        self.platform, self.store, self.key = platform, store, key
        self.halt = threading.Event()
        self.heads = 0

    def run(self) -> None:
        while not self.halt.wait(1.0):
            trail.publish(self.platform.database, self.store, self.key)
            self.heads += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8, help="rounds of each mode (even)")
    parser.add_argument("--bookings", type=int, default=300, help="bookings per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'bench.db'}",
            var_dir=str(tmp),
            log_level="WARNING",
            secret_key="benchmark-secret-key-with-at-least-32-characters",
        )
        migrate(settings)
        platform = build(settings)
        seed_demo(platform)
        tenant = platform.directory.tenant_by_slug("demo")
        assert tenant is not None
        pool = slots(platform, tenant.id, args.rounds * 2 * args.bookings)
        store = HeadStore(tmp / "heads")
        key = Ed25519PrivateKey.generate()
        trail.publish(platform.database, store, key)  # cover the seed
        original_add = SqlAuditLog.add
        results: dict[str, list[float]] = {"off": [], "on": []}
        per_round = len(pool) // (args.rounds * 2)
        for index in range(args.rounds * 2):
            batch = pool[index * per_round : (index + 1) * per_round]
            mode = "off" if index % 4 in (0, 3) else "on"
            publisher = None
            if mode == "off":
                SqlAuditLog.add = lambda self, entry: None  # type: ignore[method-assign]
            else:
                SqlAuditLog.add = original_add  # type: ignore[method-assign]
                publisher = Publisher(platform, store, key)
                publisher.start()
            results[mode].append(book(platform, tenant.id, batch, f"r{index:04d}"))
            if publisher is not None:
                publisher.halt.set()
                publisher.join()
        SqlAuditLog.add = original_add  # type: ignore[method-assign]
        off, on = statistics.median(results["off"]), statistics.median(results["on"])
        groups = [
            1 - (results["on"][2 * g] + results["on"][2 * g + 1]) / (results["off"][2 * g] + results["off"][2 * g + 1])
            for g in range(len(results["off"]) // 2)
        ]
        trail.publish(platform.database, store, key)
        report = trail.verify(platform.database, store, key.public_key())
        platform.close()
    print(
        json.dumps(
            {
                "benchmark": "audit_throughput",
                "bookings_per_round": per_round,
                "rounds_each": args.rounds,
                "median_bookings_per_s_audit_off": round(off, 1),
                "median_bookings_per_s_audit_on": round(on, 1),
                "cost_percent_of_medians": round(100 * (1 - on / off), 2),
                "cost_percent_abba_median": round(100 * statistics.median(groups), 2),
                "cost_percent_abba_groups": [round(100 * g, 2) for g in groups],
                "rounds_off": [round(x, 1) for x in results["off"]],
                "rounds_on": [round(x, 1) for x in results["on"]],
                "heads_published": report.heads_checked,
                "trail_verifies": report.ok,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
