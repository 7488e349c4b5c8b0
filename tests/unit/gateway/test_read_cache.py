"""Read cache: layers, generations, single flight and probabilistic early refresh."""

from __future__ import annotations

import threading
import time

from barberpro.adapters.kv.memory import MemoryStore
from barberpro.ops.gateway.read_cache import ReadCache


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_hit_miss_and_expiry() -> None:
    clock = Clock()
    cache = ReadCache(clock=clock, rand=lambda: 1.0)  # U=1: never refresh early
    calls = []

    def compute() -> bytes:
        calls.append(1)
        return b"v%d" % len(calls)

    assert cache.get_or_compute("t", "k", 10, compute) == b"v1"
    assert cache.get_or_compute("t", "k", 10, compute) == b"v1"
    clock.now += 11
    assert cache.get_or_compute("t", "k", 10, compute) == b"v2"
    assert cache.stats.hits == 1 and cache.stats.misses == 2


def test_invalidation_is_per_scope_and_immediate() -> None:
    cache = ReadCache(clock=Clock(), rand=lambda: 1.0)
    values = iter([b"a1", b"b1", b"a2"])
    assert cache.get_or_compute("a", "k", 60, lambda: next(values)) == b"a1"
    assert cache.get_or_compute("b", "k", 60, lambda: next(values)) == b"b1"
    cache.invalidate("a")
    assert cache.get_or_compute("a", "k", 60, lambda: next(values)) == b"a2"
    assert cache.get_or_compute("b", "k", 60, lambda: b"never") == b"b1"


def test_shared_layer_serves_other_processes_and_carries_invalidation() -> None:
    clock = Clock()
    shared = MemoryStore(clock_us=lambda: int(clock.now * 1_000_000))
    one = ReadCache(shared, clock=clock, rand=lambda: 1.0, generation_ttl=0.5)
    two = ReadCache(shared, clock=clock, rand=lambda: 1.0, generation_ttl=0.5)
    assert one.get_or_compute("t", "k", 60, lambda: b"first") == b"first"
    assert two.get_or_compute("t", "k", 60, lambda: b"never") == b"first"
    assert two.stats.l2_hits == 1
    one.invalidate("t")
    # `two` trusts its copy of the generation for at most generation_ttl: that is the bound.
    assert two.get_or_compute("t", "k", 60, lambda: b"second") == b"first"
    clock.now += 0.51
    assert two.get_or_compute("t", "k", 60, lambda: b"second") == b"second"


def test_single_flight_computes_once_for_concurrent_misses() -> None:
    cache = ReadCache()
    calls = []
    gate = threading.Event()

    def slow() -> bytes:
        calls.append(1)
        gate.wait(2)
        return b"value"

    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("t", "k", 60, slow))) for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == [b"value"] * 16
    assert cache.stats.coalesced == 15


def test_leader_failure_is_not_cached() -> None:
    cache = ReadCache()

    def boom() -> bytes:
        raise LookupError("not found")

    for _ in range(2):
        try:
            cache.get_or_compute("t", "k", 60, boom)
        except LookupError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the error must reach the caller")
    assert cache.get_or_compute("t", "k", 60, lambda: b"ok") == b"ok"


def test_xfetch_refreshes_early_and_others_keep_the_current_value() -> None:
    clock = Clock()
    draws = iter([1.0, 1e-9])  # first read keeps (ln 1 = 0); second draws a tiny U: refresh
    cache = ReadCache(clock=clock, rand=lambda: next(draws, 1.0))

    def compute() -> bytes:
        clock.now += 0.5  # the computation takes 0.5 s: that is the delta XFetch scales by
        return b"fresh"

    cache.get_or_compute("t", "k", 10, compute)
    clock.now += 5
    assert cache.get_or_compute("t", "k", 10, lambda: b"early") == b"fresh"
    assert cache.get_or_compute("t", "k", 10, lambda: b"early") == b"early"
    assert cache.stats.early_refreshes == 1


def test_early_refresh_probability_matches_xfetch() -> None:
    """P(refresh) = exp(-(expiry - now) / (delta * beta)) for one reader."""
    import random

    rng = random.Random(7)
    clock = Clock()
    cache = ReadCache(clock=clock, rand=rng.random)

    def compute() -> bytes:
        clock.now += 1.0
        return b"x"

    cache.get_or_compute("t", "k", 2.0, compute)  # delta 1 s, expires 2 s from now
    trials = 4_000
    refreshed = sum(cache._refresh_early(next(iter(cache._l1.values())), clock.now) for _ in range(trials))
    assert abs(refreshed / trials - 0.1353) < 0.02  # exp(-2)
