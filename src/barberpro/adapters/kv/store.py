"""The key-value store port: cache reads/writes, generation counters and rate decisions.

Two adapters implement it: `MemoryStore` (one process, the embedded default) and
`RedisStore` (shared by every API replica). Synchronous methods serve request handlers
running in worker threads; `rate_limit` is async because the gateway calls it on the
event loop for every request.
"""

from __future__ import annotations

from typing import Protocol

from barberpro.adapters.kv.gcra import RateDecision, RatePolicy


class KeyValueStore(Protocol):
    shared: bool  # True when other processes see the same data

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...

    def incr(self, key: str) -> int: ...

    async def rate_limit(self, key: str, policy: RatePolicy, cost: int = 1, *, peek: bool = False) -> RateDecision:
        """Atomically decide (and, unless `peek`, record) one request of `cost` units."""
        ...

    def close(self) -> None: ...
