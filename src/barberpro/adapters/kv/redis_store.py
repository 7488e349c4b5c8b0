"""Redis key-value store: shared by every API replica.

When Redis does not answer, every method raises `StoreUnavailable` and the store stops asking
for `RETRY_AFTER` seconds (a circuit breaker): requests then pay no connection timeout each,
and callers degrade (see `store.py`). The first call after that period tries again.

A rate decision is ONE round trip: a Lua script that reads the TAT, decides with the GCRA
arithmetic of gcra.py and writes the new TAT, atomically inside Redis. The script uses
Redis' own clock (TIME) so that replicas with skewed clocks still share one bucket.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from barberpro.adapters.kv.gcra import MICROS, RateDecision, RatePolicy
from barberpro.adapters.kv.memory import WINDOW_MEMBERS
from barberpro.adapters.kv.store import StoreUnavailable

RETRY_AFTER = 5.0  # seconds without asking Redis after it failed to answer
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """A synchronous call to Redis behind the store's breaker."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        store: RedisStore = args[0]  # type: ignore[assignment]
        store._check()
        try:
            return method(*args, **kwargs)
        except store.failures as error:
            raise store._tripped(error) from error

    return call


def _guarded_async(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """An asynchronous call to Redis behind the store's breaker."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        store: RedisStore = args[0]  # type: ignore[assignment]
        store._check()
        try:
            return await method(*args, **kwargs)
        except store.failures as error:
            raise store._tripped(error) from error

    return call


GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local peek = ARGV[4] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
  local remaining = math.max(0, math.floor((tolerance - (tat - now)) / interval))
  return {0, remaining, allow_at - now, tat - now}
end
if not peek then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return {1, math.floor((tolerance - (new_tat - now)) / interval), 0, new_tat - now}
"""


# A sliding window as a sorted set scored by Redis' clock (replicas' clocks may differ): note the
# member, drop what fell out of the window, keep at most ARGV[3] members, expire with the window.
WINDOW_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
local n = redis.call('ZCARD', KEYS[1])
local cap = tonumber(ARGV[3])
if n > cap then
  redis.call('ZPOPMIN', KEYS[1], n - cap)
  n = cap
end
if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000)) end
return n
"""


class RedisStore:
    shared = True

    def __init__(self, url: str, prefix: str = "bp:") -> None:
        import redis
        import redis.asyncio

        self._url = url
        self._prefix = prefix
        self._sync = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._async_module = redis.asyncio
        self._async: Any = None
        self._script: Any = None
        self._window_script: Any = None
        self.failures: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _check(self) -> None:
        if not self.available:
            raise StoreUnavailable("Redis did not answer a moment ago; not asking again yet")

    def _tripped(self, error: BaseException) -> StoreUnavailable:
        if self.available:  # the first failure of an outage is logged, not every request's
            log.warning("redis_unavailable", extra={"error": repr(error), "retry_after_s": RETRY_AFTER})
        self._down_until = time.monotonic() + RETRY_AFTER
        return StoreUnavailable(f"Redis did not answer: {type(error).__name__}")

    def _k(self, key: str) -> str:
        return self._prefix + key

    @_guarded
    def get(self, key: str) -> bytes | None:
        value = self._sync.get(self._k(key))
        return value if isinstance(value, bytes) else None

    @_guarded
    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._sync.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    @_guarded
    def delete(self, key: str) -> None:
        self._sync.delete(self._k(key))

    @_guarded
    def incr(self, key: str) -> int:
        return int(self._sync.incr(self._k(key)))

    def _client(self) -> Any:
        if self._async is None:
            # Created lazily on the serving event loop (an asyncio client is bound to its loop).
            self._async = self._async_module.Redis.from_url(self._url, socket_timeout=2.0, socket_connect_timeout=2.0)
            self._script = self._async.register_script(GCRA_SCRIPT)
            self._window_script = self._async.register_script(WINDOW_SCRIPT)
        return self._async

    @_guarded_async
    async def window_add(self, key: str, member: str, window: float) -> int:
        self._client()
        return int(await self._window_script(keys=[self._k("win:" + key)], args=[member, window, WINDOW_MEMBERS]))

    @_guarded_async
    async def window_count(self, key: str, window: float) -> int:
        self._client()
        return int(await self._window_script(keys=[self._k("win:" + key)], args=["", window, WINDOW_MEMBERS]))

    @_guarded_async
    async def claim(self, key: str, ttl: float) -> bool:
        taken = await self._client().set(self._k("claim:" + key), b"1", px=max(1, int(ttl * 1000)), nx=True)
        return bool(taken)

    @_guarded_async
    async def held_for(self, key: str) -> float:
        left = int(await self._client().pttl(self._k("claim:" + key)))
        return max(0, left) / 1000

    @_guarded_async
    async def rate_limit(self, key: str, policy: RatePolicy, cost: int = 1, *, peek: bool = False) -> RateDecision:
        self._client()
        allowed, remaining, retry_us, reset_us = await self._script(
            keys=[self._k("rl:" + key)],
            args=[policy.interval_us, policy.tolerance_us, cost, "1" if peek else "0"],
        )
        return RateDecision(bool(allowed), int(remaining), int(retry_us) / MICROS, int(reset_us) / MICROS)

    def close(self) -> None:
        self._sync.close()
        self._async = None


def open_store(redis_url: str | None) -> Any:
    """The store the settings ask for: Redis when a URL is configured, else in-process."""
    if redis_url:
        return RedisStore(redis_url)
    from barberpro.adapters.kv.memory import MemoryStore

    return MemoryStore()
