"""The outbox relay: publishes committed events once they exist, queues fairly with writers."""

from __future__ import annotations

import threading
import time

import pytest

from barberpro.bootstrap import Platform
from barberpro.domain.events import DomainEvent
from platform_fixtures import TenantFixture


def test_relay_publishes_pending_events_in_order_and_only_once(platform: Platform, alpha: TenantFixture) -> None:
    seen: list[DomainEvent] = []
    platform.bus.subscribe("*", seen.append)
    while platform.relay.run_once():
        pass
    assert seen, "tenant set-up writes events"
    ids = [event.data["event_id"] for event in seen]
    assert len(ids) == len(set(ids))
    assert platform.relay.run_once() == 0  # nothing left: the second pass publishes nothing
    assert len(seen) == len(ids)


def test_an_idle_poll_does_not_take_the_write_lock(platform: Platform, alpha: TenantFixture) -> None:
    while platform.relay.run_once():
        pass
    lock = platform.database.write_lock
    if lock is None:
        pytest.skip("PostgreSQL has no process-level writer queue")
    with lock:  # a writer holds the lock; an idle poll must still return at once
        started = time.perf_counter()
        assert platform.relay.run_once() == 0
        assert time.perf_counter() - started < 1.0


def test_a_busy_relay_queues_on_the_process_write_lock(platform: Platform, alpha: TenantFixture) -> None:
    lock = platform.database.write_lock
    if lock is None:
        pytest.skip("PostgreSQL has no process-level writer queue")
    published: list[int] = []
    lock.acquire()  # as a booking's unit of work holds it
    try:
        relay = threading.Thread(target=lambda: published.append(platform.relay.run_once()))
        relay.start()
        relay.join(timeout=0.3)
        assert relay.is_alive(), "the relay must wait for the writer, not enter SQLite beside it"
    finally:
        lock.release()
    relay.join(timeout=5)
    assert not relay.is_alive() and published and published[0] > 0
