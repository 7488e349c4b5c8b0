"""In-process key-value store: the embedded default and the fake for unit tests.

The rate limiter needs no lock on the hot path: it runs on the event loop thread, and one
decision is a dict read, arithmetic and a dict write with no await in between.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from barberpro.adapters.kv.gcra import MICROS, RateDecision, RatePolicy, decide

WINDOW_MEMBERS = 10_000  # per window: a flood keeps its newest members (the count saturates there)


def _monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class MemoryStore:
    shared = False

    def __init__(self, clock_us: Callable[[], int] = _monotonic_us, max_keys: int = 200_000) -> None:
        self._clock_us = clock_us
        self._max_keys = max_keys
        self._values: dict[str, tuple[bytes, float]] = {}
        self._tats: dict[str, int] = {}
        self._windows: dict[str, dict[str, float]] = {}  # key -> member -> when it was last noted
        self._counter_lock = threading.Lock()  # incr is called from worker threads

    def get(self, key: str) -> bytes | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= self._clock_us() / MICROS:
            self._values.pop(key, None)
            return None
        return item[0]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(self._values) >= self._max_keys:
            self._evict_values()
        self._values[key] = (value, self._clock_us() / MICROS + ttl)

    def delete(self, key: str) -> None:
        self._values.pop(key, None)

    def incr(self, key: str) -> int:
        # Same key space as get/set, as in Redis: a counter reads back as its decimal bytes.
        with self._counter_lock:
            value = int(self.get(key) or b"0") + 1
            self._values[key] = (str(value).encode(), float("inf"))
            return value

    def rate_limit_now(self, key: str, policy: RatePolicy, cost: int = 1, *, peek: bool = False) -> RateDecision:
        now = self._clock_us()
        decision, new_tat = decide(self._tats.get(key), now, policy.interval_us, policy.tolerance_us, cost)
        if new_tat is not None and not peek:
            if len(self._tats) >= self._max_keys:
                self._evict_tats(now)
            self._tats[key] = new_tat
        return decision

    async def rate_limit(self, key: str, policy: RatePolicy, cost: int = 1, *, peek: bool = False) -> RateDecision:
        return self.rate_limit_now(key, policy, cost, peek=peek)

    async def window_add(self, key: str, member: str, window: float) -> int:
        now = self._clock_us() / MICROS
        if key not in self._windows and len(self._windows) >= self._max_keys:
            self._windows.clear()  # bounded memory: forgetting old windows is the safe failure
        members = self._windows.setdefault(key, {})
        members.pop(member, None)  # re-noted: it moves to the newest end
        members[member] = now
        return self._prune(members, now - window, key)

    async def window_count(self, key: str, window: float) -> int:
        members = self._windows.get(key)
        return 0 if members is None else self._prune(members, self._clock_us() / MICROS - window, key)

    def _prune(self, members: dict[str, float], since: float, key: str) -> int:
        # Members are kept in the order they were noted: the old ones are at the front.
        for member in [m for m, at in itertools.takewhile(lambda item: item[1] < since, members.items())]:
            del members[member]
        while len(members) > WINDOW_MEMBERS:
            del members[next(iter(members))]
        if not members:
            self._windows.pop(key, None)
        return len(members)

    async def claim(self, key: str, ttl: float) -> bool:
        if self.get("claim:" + key) is not None:
            return False
        self.set("claim:" + key, b"1", ttl)
        return True

    async def held_for(self, key: str) -> float:
        item = self._values.get("claim:" + key)
        return 0.0 if item is None else max(0.0, item[1] - self._clock_us() / MICROS)

    def close(self) -> None:
        self._values.clear()
        self._tats.clear()
        self._windows.clear()

    def _evict_values(self) -> None:
        now = self._clock_us() / MICROS
        for key in [k for k, (_, expires) in self._values.items() if expires <= now]:
            self._values.pop(key, None)
        if len(self._values) >= self._max_keys:  # still full of live entries: start afresh
            self._values.clear()

    def _evict_tats(self, now: int) -> None:
        # A TAT in the past means a full bucket, which is the same as no entry.
        for key in [k for k, tat in self._tats.items() if tat <= now]:
            self._tats.pop(key, None)
        if len(self._tats) >= self._max_keys:
            self._tats.clear()
