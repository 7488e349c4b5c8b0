"""Two-layer read cache with stampede protection and generation-based invalidation.

Layers: an in-process dict (L1) in front of an optional shared store (L2, Redis) in front
of the database (the `compute` callable). Keys are namespaced by a *scope* (a tenant) and
that scope's generation number; invalidating a scope bumps its generation, so every entry
written before the bump becomes unreachable at once, including one computed by a request
that raced the write.

Stampede protection:
- single flight: concurrent misses for one key run `compute` once; the others wait for it;
- probabilistic early refresh (XFetch, Vattani et al., VLDB 2015): a reader recomputes
  before expiry with a probability that grows as expiry nears, scaled by how long the
  computation took, so a hot key is refreshed by one reader instead of expiring for all.

Staleness bound: an entry is served at most `generation_ttl` seconds after its scope was
invalidated in the shared store (0 with no shared store: the bump is local and immediate),
and never past its own TTL.

While the shared store is unavailable, reads go to the database uncached (nobody can tell which
generation is current) and an invalidation that could not reach it is kept and applied by the
first read that reaches it again, before that read looks anything up. Until then another
replica may serve an entry cached before that write, at most for the entry's TTL.
"""

from __future__ import annotations

import contextlib
import math
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from barberpro.adapters.kv.store import KeyValueStore, StoreUnavailable

_HEADER = struct.Struct("!dd")  # wall-clock expiry, compute time


@dataclass
class _Entry:
    value: bytes
    expires: float  # wall clock (time.time): comparable across processes for L2 entries
    delta: float  # seconds the computation took


class _Flight:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: bytes | None = None
        self.error: BaseException | None = None


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    l2_hits: int = 0
    early_refreshes: int = 0
    coalesced: int = 0
    invalidations: int = 0
    uncached: int = 0  # reads served from the database while the shared store was unavailable


class ReadCache:
    def __init__(
        self,
        shared: KeyValueStore | None = None,
        *,
        l1_ttl: float = 1.0,
        generation_ttl: float = 0.5,
        beta: float = 1.0,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._shared = shared
        self._l1_ttl = l1_ttl
        self._generation_ttl = generation_ttl
        self._beta = beta
        self._max_entries = max_entries
        self._clock = clock
        self._rand = rand
        self._l1: dict[str, _Entry] = {}
        self._generations: dict[str, tuple[int, float]] = {}  # scope -> (generation, valid until)
        self._flights: dict[str, _Flight] = {}
        self._unapplied: set[str] = set()  # scopes invalidated while the shared store was unavailable
        self._lock = threading.Lock()
        self.stats = CacheStats()

    # -- invalidation -------------------------------------------------------------------
    def generation(self, scope: str) -> int:
        now = self._clock()
        cached = self._generations.get(scope)
        if cached is not None and (self._shared is None or cached[1] > now):
            return cached[0]
        if self._shared is None:
            return 0
        if self._unapplied:  # invalidations the store missed go first
            with self._lock:
                missed = sorted(self._unapplied)
            for other in missed:
                self._shared.incr("gen:" + other)
                with self._lock:
                    self._unapplied.discard(other)
        raw = self._shared.get("gen:" + scope)
        value = int(raw) if raw else 0
        self._generations[scope] = (value, now + self._generation_ttl)
        return value

    def invalidate(self, scope: str) -> None:
        self.stats.invalidations += 1
        if self._shared is not None:
            try:
                value = self._shared.incr("gen:" + scope)
            except StoreUnavailable:
                with self._lock:
                    self._unapplied.add(scope)
                self._generations.pop(scope, None)  # so this process's next read asks the store
                return
        else:
            with self._lock:
                value = self._generations.get(scope, (0, 0.0))[0] + 1
        self._generations[scope] = (value, self._clock() + self._generation_ttl)

    # -- reads --------------------------------------------------------------------------
    def get_or_compute(self, scope: str, key: str, ttl: float, compute: Callable[[], bytes]) -> bytes:
        try:
            full = f"{scope}:{self.generation(scope)}:{key}"
        except StoreUnavailable:
            self.stats.uncached += 1
            return compute()
        now = self._clock()
        entry = self._l1.get(full)
        if entry is not None and entry.expires > now:
            if not self._refresh_early(entry, now):
                self.stats.hits += 1
                return entry.value
            # Early refresh: one reader recomputes, everyone else keeps the current value.
            if full in self._flights:
                self.stats.hits += 1
                return entry.value
            self.stats.early_refreshes += 1
            return self._lead(full, ttl, compute, fallback=entry.value)
        if self._shared is not None:
            try:
                entry = self._from_shared(full, now)
            except StoreUnavailable:
                entry = None  # went away since the generation was read: computed below
            if entry is not None and not self._refresh_early(entry, now):
                self.stats.l2_hits += 1
                self._keep(full, entry, now)
                return entry.value
        return self._lead(full, ttl, compute, fallback=None)

    def peek(self, scope: str, key: str) -> bytes | None:
        """A fresh in-process value, or None (then call get_or_compute). Never computes, never
        blocks: the HTTP fast path calls it on the event loop."""
        try:
            full = f"{scope}:{self.generation(scope)}:{key}"
        except StoreUnavailable:
            return None
        entry = self._l1.get(full)
        now = self._clock()
        if entry is None or entry.expires <= now or self._refresh_early(entry, now):
            return None
        self.stats.hits += 1
        return entry.value

    def _refresh_early(self, entry: _Entry, now: float) -> bool:
        # XFetch: refresh when now - delta * beta * ln(U) >= expiry, U uniform in (0, 1].
        u = self._rand() or 1e-12
        return now - entry.delta * self._beta * math.log(u) >= entry.expires

    def _lead(self, full: str, ttl: float, compute: Callable[[], bytes], fallback: bytes | None) -> bytes:
        with self._lock:
            flight = self._flights.get(full)
            leader = flight is None
            if leader:
                flight = self._flights[full] = _Flight()
        assert flight is not None
        if not leader:
            if fallback is not None:
                return fallback
            self.stats.coalesced += 1
            flight.done.wait(timeout=30)
            if flight.value is not None:
                return flight.value
            return compute()  # the leader failed: try ourselves (its error is its own)
        self.stats.misses += 1
        try:
            started = self._clock()
            value = compute()
            finished = self._clock()
            entry = _Entry(value, finished + ttl, max(0.0, finished - started))
            if self._shared is not None:
                with contextlib.suppress(StoreUnavailable):  # kept here at least (L1)
                    self._shared.set(full, _HEADER.pack(entry.expires, entry.delta) + value, ttl)
            self._keep(full, entry, finished)
            flight.value = value
            return value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(full, None)
            flight.done.set()

    def _from_shared(self, full: str, now: float) -> _Entry | None:
        assert self._shared is not None
        raw = self._shared.get(full)
        if raw is None or len(raw) < _HEADER.size:
            return None
        expires, delta = _HEADER.unpack_from(raw)
        if expires <= now:
            return None
        return _Entry(raw[_HEADER.size :], expires, delta)

    def _keep(self, full: str, entry: _Entry, now: float) -> None:
        if self._shared is not None:
            # L1 holds shared entries only briefly: the shared copy is the one others refresh.
            entry = _Entry(entry.value, min(entry.expires, now + self._l1_ttl), entry.delta)
        if len(self._l1) >= self._max_entries:
            self._l1 = {k: e for k, e in self._l1.items() if e.expires > now}
            if len(self._l1) >= self._max_entries:
                self._l1.clear()
        self._l1[full] = entry
