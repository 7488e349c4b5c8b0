"""The load shedder's critical gate at the ASGI level: admitted browsing gives way to a booking."""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from barberpro.entrypoints.http.gateway_shedding import LoadShedder, pause_point, session_cookie
from barberpro.ops.gateway.concurrency import CriticalGate, GradientLimiter, Priority
from barberpro.ops.gateway.credentials import VerifiedCredentials


class _RecordingLimiter(GradientLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.samples: list[tuple[Priority, float]] = []

    def release(self, priority: Priority, latency: float, *, sample: bool = True) -> None:
        self.samples.append((priority, latency))
        super().release(priority, latency, sample=sample)


def _scope(method: str, path: str) -> Scope:
    headers: list[tuple[bytes, bytes]] = [(b"host", b"alpha.example.com")]
    return {"type": "http", "method": method, "path": path, "headers": headers}


async def _call(app: LoadShedder, method: str, path: str) -> int:
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    await app(_scope(method, path), receive, send)  # type: ignore[arg-type]
    return statuses[0]


def test_admitted_browsing_waits_at_its_next_statement_while_a_booking_runs() -> None:
    events: list[str] = []
    booking_may_finish = asyncio.Event()

    def browse() -> None:  # a worker thread: one statement after another
        pause_point()
        events.append("browse statement")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            await booking_may_finish.wait()
            events.append("booking done")
        else:
            await run_in_threadpool(browse)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limiter = _RecordingLimiter()
    gate = CriticalGate(max_wait=2.0)
    shedder = LoadShedder(app, limiter=limiter, gate=gate)

    async def scenario() -> None:
        gate.shed()  # overloaded a moment ago
        booking = asyncio.create_task(_call(shedder, "POST", "/api/v1/bookings"))
        await asyncio.sleep(0.01)
        assert gate.closed
        browsing = asyncio.create_task(_call(shedder, "GET", "/api/v1/shops"))
        await asyncio.sleep(0.15)
        assert events == []  # the browsing thread sleeps at its statement
        booking_may_finish.set()
        assert await booking == 200 and await browsing == 200

    began = time.perf_counter()
    asyncio.run(scenario())
    assert events == ["booking done", "browse statement"]
    assert not gate.closed and time.perf_counter() - began < 2.0
    # The limiter measures the server, not the deliberate wait: browsing's sample leaves it out.
    browsing_latency = next(latency for priority, latency in limiter.samples if priority is Priority.PUBLIC)
    assert browsing_latency < 0.1


def test_without_overload_browsing_does_not_wait_for_bookings() -> None:
    def browse() -> None:
        pause_point()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            await asyncio.sleep(0.3)
        else:
            await run_in_threadpool(browse)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gate = CriticalGate(max_wait=2.0)
    shedder = LoadShedder(app, limiter=GradientLimiter(), gate=gate)

    async def scenario() -> float:
        booking = asyncio.create_task(_call(shedder, "POST", "/api/v1/bookings"))
        await asyncio.sleep(0.01)
        began = time.perf_counter()
        assert await _call(shedder, "GET", "/api/v1/shops") == 200
        took = time.perf_counter() - began
        await booking
        return took

    assert asyncio.run(scenario()) < 0.2
    assert gate.closed_count == 0


def test_only_verified_credentials_rank_as_staff() -> None:
    """A made-up bearer header or session cookie ranks as anonymous, not staff; one the auth
    dependency verified in this process ranks as staff."""
    ranked: list[Priority] = []

    class _Ranking(GradientLimiter):
        def try_acquire(self, priority: Priority) -> bool:
            ranked.append(priority)
            return super().try_acquire(priority)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    verified = VerifiedCredentials()
    shedder = LoadShedder(app, limiter=_Ranking(), verified=verified)

    async def call(header: tuple[bytes, bytes]) -> None:
        scope = _scope("GET", "/api/v1/staff/agenda")
        scope["headers"].append(header)

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            return None

        await shedder(scope, receive, send)  # type: ignore[arg-type]

    async def scenario() -> None:
        await call((b"authorization", b"Bearer made-up"))
        await call((b"cookie", b"theme=dark; bp_session=made-up"))
        verified.add(b"tok-123")
        verified.add(b"sess-456")
        await call((b"authorization", b"Bearer tok-123"))
        await call((b"cookie", b"theme=dark; bp_session=sess-456"))
        await call((b"authorization", b"Basic tok-123"))  # not a bearer token

    asyncio.run(scenario())
    assert ranked == [Priority.PUBLIC, Priority.PUBLIC, Priority.STAFF, Priority.STAFF, Priority.PUBLIC]


def test_session_cookie_and_the_bounded_set() -> None:
    assert session_cookie(b"a=1; bp_session=xyz ; b=2") == b"xyz"
    assert session_cookie(b'bp_session="q"') == b"q"
    assert session_cookie(b"not_bp_session=1") == b""
    verified = VerifiedCredentials(max_entries=3)
    for secret in (b"a", b"b", b"c"):
        verified.add(secret)
    assert verified.verified(b"a") and not verified.verified(b"") and not verified.verified(b"z")
    verified.add(b"d")  # full: starts over, the next verified request of each caller re-adds it
    assert len(verified) == 1 and verified.verified(b"d") and not verified.verified(b"a")
