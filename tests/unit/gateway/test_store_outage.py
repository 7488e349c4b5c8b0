"""The shared store going away: the Redis store's breaker, and the read cache reading through.

The gateway side (limits and threat windows letting traffic through, counted in the security
report) is in tests/integration/test_gateway_limits.py.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from barberpro.adapters.kv.gcra import RatePolicy
from barberpro.adapters.kv.memory import MemoryStore
from barberpro.adapters.kv.redis_store import RETRY_AFTER, RedisStore
from barberpro.adapters.kv.store import StoreUnavailable
from barberpro.ops.gateway.read_cache import ReadCache


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on return: connections are refused


class Flaky(MemoryStore):
    """The in-process store that can be switched off, as Redis going away looks to its callers."""

    down = False

    def get(self, key: str) -> bytes | None:
        self._fail()
        return super().get(key)

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._fail()
        super().set(key, value, ttl)

    def incr(self, key: str) -> int:
        self._fail()
        return super().incr(key)

    def _fail(self) -> None:
        if self.down:
            raise StoreUnavailable("switched off")


def test_redis_unreachable_opens_the_breaker_then_tries_again() -> None:
    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        with pytest.raises(StoreUnavailable, match="did not answer"):
            store.get("k")
        assert not store.available
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="not asking again"):
            store.incr("k")  # no connection attempt while the breaker is open
        with pytest.raises(StoreUnavailable):
            asyncio.run(store.rate_limit("k", RatePolicy("p", 10, 60)))
        with pytest.raises(StoreUnavailable):
            asyncio.run(store.window_add("w", "m", 60))
        assert time.perf_counter() - started < 0.05
        store._down_until -= RETRY_AFTER  # the period is over: the next call asks Redis again
        with pytest.raises(StoreUnavailable, match="did not answer"):
            store.set("k", b"v", 5)
    finally:
        store.close()


def test_the_read_cache_reads_through_while_the_store_is_away_and_replays_its_invalidation() -> None:
    now = [1_000_000.0]
    shared = Flaky(clock_us=lambda: int(now[0] * 1_000_000))
    cache = ReadCache(shared, clock=lambda: now[0], rand=lambda: 1.0, generation_ttl=0.5)
    other = ReadCache(shared, clock=lambda: now[0], rand=lambda: 1.0, generation_ttl=0.5)
    computed: list[bytes] = []

    def compute() -> bytes:
        computed.append(b"v%d" % (len(computed) + 1))
        return computed[-1]

    assert cache.get_or_compute("t", "k", 60, compute) == b"v1"
    shared.down = True
    now[0] += 1  # past the generation's local validity: the next read must ask the store
    assert cache.get_or_compute("t", "k", 60, compute) == b"v2"  # from the database, uncached
    assert cache.get_or_compute("t", "k", 60, compute) == b"v3"
    assert cache.peek("t", "k") is None and cache.stats.uncached == 2
    cache.invalidate("t")  # a write while the store is away: no error, kept for later
    shared.down = False
    # Back: the first read applies the missed invalidation before it looks anything up, so the
    # entry cached before the write (v1, still in the shared layer) is not served any more.
    assert cache.get_or_compute("t", "k", 60, compute) == b"v4"
    assert shared.get("gen:t") == b"1"
    now[0] += 1
    assert other.get_or_compute("t", "k", 60, compute) == b"v4"  # the other replica, from L2
