"""Credential stuffing and booking abuse detection, on the in-process store with a set clock
(the Redis store's windows are checked against it in tests/integration/test_gateway_redis.py)."""

from __future__ import annotations

import asyncio

from barberpro.adapters.kv.gcra import MICROS
from barberpro.adapters.kv.memory import MemoryStore
from barberpro.ops.gateway.threats import (
    BookingAbuseDetector,
    CredentialStuffingDetector,
    Detection,
    fingerprint,
    progressive_delay,
)


class Clock:
    def __init__(self) -> None:
        self.seconds = 1_000.0

    def us(self) -> int:
        return int(self.seconds * MICROS)


def stuffing(clock: Clock, **settings: int) -> CredentialStuffingDetector:
    return CredentialStuffingDetector(MemoryStore(clock_us=clock.us), **settings)


def failures(detector: CredentialStuffingDetector, clock: Clock, attempts: list[tuple[str, str]]) -> list[Detection]:
    async def run() -> list[Detection]:
        found = []
        for ip, account in attempts:
            clock.seconds += 1
            found += await detector.failed_login(ip, account)
        return found

    return asyncio.run(run())


def test_progressive_delay_grows_and_is_capped() -> None:
    delays = [progressive_delay(n) for n in range(10)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:6] == [0.25, 0.5, 1.0]
    assert max(delays) == 4.0 and delays == sorted(delays)


def test_one_address_many_accounts_alerts_once() -> None:
    clock = Clock()
    detector = stuffing(clock, accounts_per_ip=5, accounts_overall=1_000)
    found = failures(detector, clock, [("1.2.3.4", f"user{i}@x.com") for i in range(12)])
    assert [d.kind for d in found] == ["credential_stuffing_ip"]
    assert found[0].subject == "1.2.3.4" and found[0].detail["accounts"] == 5
    # After the re-alert period it is raised again (the attack goes on).
    clock.seconds += 600
    again = failures(detector, clock, [("1.2.3.4", f"user{i}@x.com") for i in range(12, 17)])
    assert [d.kind for d in again] == ["credential_stuffing_ip"]


def test_one_account_many_failures_is_brute_force_not_stuffing() -> None:
    clock = Clock()
    detector = stuffing(clock, accounts_per_ip=5, accounts_overall=20)
    assert failures(detector, clock, [("1.2.3.4", "owner@x.com")] * 50) == []


def test_pattern_across_many_addresses_alerts() -> None:
    clock = Clock()
    detector = stuffing(clock, accounts_per_ip=5, accounts_overall=20)
    found = failures(detector, clock, [(f"10.0.{i}.1", f"u{i}@x.com") for i in range(25)])
    assert [d.kind for d in found] == ["credential_stuffing_wide"]
    assert found[0].detail["addresses"] == 20


def test_old_failures_leave_the_window() -> None:
    clock = Clock()
    detector = stuffing(clock, window=60, accounts_per_ip=5)
    for i in range(6):
        clock.seconds += 100
        assert failures(detector, clock, [("1.2.3.4", f"u{i}@x.com")]) == []


def test_accounts_are_hashed() -> None:
    assert fingerprint(" Owner@X.com ") == fingerprint("owner@x.com")
    assert "@" not in fingerprint("owner@x.com")


def test_slot_hoarding_is_flagged_per_tenant_and_address() -> None:
    clock = Clock()
    detector = BookingAbuseDetector(MemoryStore(clock_us=clock.us), max_creations=6, penalty=3600)

    async def run() -> None:
        results = []
        for _ in range(6):
            clock.seconds += 1
            results.append(await detector.booking_created("t1", "5.5.5.5"))
        assert results[:5] == [None] * 5
        assert results[5] is not None and results[5].detail["reason"] == "slot_hoarding"
        assert await detector.booking_created("t1", "5.5.5.5") is None  # flagged once
        assert await detector.flagged("t1", "5.5.5.5") > 3500
        assert await detector.flagged("t2", "5.5.5.5") == 0
        assert await detector.flagged("t1", "6.6.6.6") == 0
        clock.seconds += 4000
        assert await detector.flagged("t1", "5.5.5.5") == 0

    asyncio.run(run())


def test_create_cancel_churn_is_flagged() -> None:
    clock = Clock()
    detector = BookingAbuseDetector(MemoryStore(clock_us=clock.us), max_creations=100, max_cancellations=4)

    async def run() -> Detection | None:
        found = None
        for _ in range(4):
            clock.seconds += 1
            await detector.booking_created("t", "7.7.7.7")
            clock.seconds += 0.5
            found = await detector.booking_cancelled("t", "7.7.7.7") or found
        return found

    found = asyncio.run(run())
    assert found is not None and found.detail["reason"] == "create_cancel_churn"


def test_a_window_counts_distinct_members_and_forgets_old_ones() -> None:
    clock = Clock()
    store = MemoryStore(clock_us=clock.us)

    async def run() -> list[int]:
        counts = [await store.window_add("w", member, 10) for member in ("a", "b", "a")]
        clock.seconds += 6
        counts.append(await store.window_add("w", "c", 10))
        clock.seconds += 6  # "b" was noted 12 s ago; "a" 12 s ago too (re-noted at the same time)
        counts.append(await store.window_count("w", 10))
        return counts

    assert asyncio.run(run()) == [1, 2, 2, 3, 1]
