"""The key-value store port: cache reads/writes, generation counters and rate decisions.

Two adapters implement it: `MemoryStore` (one process, the embedded default) and
`RedisStore` (shared by every API replica). Sliding windows and claims carry the threat
detectors' state, so replicas behind one Redis see one attacker, not a share each.
Synchronous methods serve request handlers running in worker threads; `rate_limit`, the
windows and the claims are async because the gateway calls them on the event loop.
"""

from __future__ import annotations

from typing import Protocol

from barberpro.adapters.kv.gcra import RateDecision, RatePolicy


class StoreUnavailable(Exception):
    """The shared store did not answer. Callers degrade instead of failing the request: limits
    and threat windows let traffic through, the read cache reads from the database."""


class KeyValueStore(Protocol):
    shared: bool  # True when other processes see the same data

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...

    def incr(self, key: str) -> int: ...

    async def rate_limit(self, key: str, policy: RatePolicy, cost: int = 1, *, peek: bool = False) -> RateDecision:
        """Atomically decide (and, unless `peek`, record) one request of `cost` units."""
        ...

    async def window_add(self, key: str, member: str, window: float) -> int:
        """Note `member` now in the sliding window `key` of `window` seconds (a member noted again
        moves to now); the number of distinct members the window holds, this one included."""
        ...

    async def window_count(self, key: str, window: float) -> int:
        """The number of distinct members noted in the last `window` seconds."""
        ...

    async def claim(self, key: str, ttl: float) -> bool:
        """Take `key` for `ttl` seconds if nobody holds it: True for the one caller that took it."""
        ...

    async def held_for(self, key: str) -> float:
        """Seconds left on a claimed key (0 when nobody holds it)."""
        ...

    def close(self) -> None: ...
