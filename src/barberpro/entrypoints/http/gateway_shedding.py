"""Load shedding as the outermost layer (raw ASGI): admit or refuse from `scope` alone.

Under overload most requests are refused, so a refusal must cost next to nothing: it is
decided from the method, path and two headers (a credential counts only once this process
has verified it: `VerifiedCredentials`), before any other middleware, without a
Request object, without reading the body and without a log line; the 503 is prebuilt and
only one in-memory counter moves (exported at scrape time). Refused requests still get a
complete HTTP answer with the security headers and `Retry-After`; the server discards an
unread request body itself and keeps the connection usable.

Admitted requests meet the `CriticalGate`: while a booking (or payment webhook) is in flight
under overload, admitted browsing sleeps at its next database statement (`pause_point`, an
engine event) until the booking is done, so the booking has the interpreter nearly to itself.
The limiter's latency sample of a browsing request leaves that pause out: it measures the
server, not the deliberate wait.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from barberpro.entrypoints.http.deps import SESSION_COOKIE
from barberpro.entrypoints.http.middleware import SECURITY_HEADERS
from barberpro.ops.gateway.concurrency import CriticalGate, GradientLimiter, Priority
from barberpro.ops.gateway.credentials import VerifiedCredentials
from barberpro.ops.gateway.policies import RouteClass, classify

PRIORITY = {
    RouteClass.BOOKING: Priority.CRITICAL,
    RouteClass.WEBHOOK: Priority.CRITICAL,
    RouteClass.STAFF: Priority.STAFF,
    RouteClass.LOGIN: Priority.STAFF,
    RouteClass.PUBLIC: Priority.PUBLIC,
}
_BODY = orjson.dumps(
    {
        "type": "https://barberpro.com.ar/problems/overloaded",
        "title": "Service overloaded",
        "status": 503,
        "detail": "the server is shedding load; retry shortly",
    }
)
_START: Message = {
    "type": "http.response.start",
    "status": 503,
    "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(_BODY)).encode()),
        (b"retry-after", b"1"),
        (b"cache-control", b"no-store"),
        *SECURITY_HEADERS,
    ],
}
_END: Message = {"type": "http.response.body", "body": _BODY}


class _Browsing:
    """An admitted browsing request, as its worker thread sees it (through a context variable)."""

    __slots__ = ("gate", "paused")

    def __init__(self, gate: CriticalGate) -> None:
        self.gate = gate
        self.paused = 0.0


_SESSION_MARK = SESSION_COOKIE.encode() + b"="
_BROWSING: ContextVar[_Browsing | None] = ContextVar("barberpro_browsing", default=None)


def session_cookie(header: bytes) -> bytes:
    """The session cookie of a raw Cookie header as the auth dependency reads it (Starlette's
    own parser, so a verified value and the value looked up here are the same); b"" when absent."""
    return cookie_parser(header.decode("latin-1")).get(SESSION_COOKIE, "").encode("latin-1")


def pause_point(*_: Any) -> None:
    """Where admitted browsing gives way to a booking in flight (called before each database
    statement; a no-op for every other request and whenever the gate is open)."""
    browsing = _BROWSING.get()
    if browsing is not None:
        browsing.paused += browsing.gate.wait()


class LoadShedder:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: GradientLimiter,
        hsts: bool = False,
        gate: CriticalGate | None = None,
        verified: VerifiedCredentials | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.gate = gate or CriticalGate()
        self.verified = verified if verified is not None else VerifiedCredentials()
        self.start = _START
        if hsts:
            headers = [*_START["headers"], (b"strict-transport-security", b"max-age=31536000; includeSubDomains")]
            self.start = {**_START, "headers": headers}
        self.shed_total = 0
        self.paused_seconds = 0.0  # browsing held by the critical gate (event loop only)
        # (host, route class) -> refusals since the last drain; drained by the security log's thread.
        self._shed: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)  # health, metrics, pages: never shed
            return
        credentials = False
        host = b""
        verified = self.verified
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"authorization":
                # As the guard classifies, only a bearer token can make a staff request; and only
                # one the auth dependency has verified in this process does (else: anonymous).
                credentials = credentials or (value[:7].lower() == b"bearer " and verified.verified(value[7:].strip()))
            elif name == b"cookie" and _SESSION_MARK in value:
                credentials = credentials or verified.verified(session_cookie(value))
        route_class = classify(scope["method"], path, credentials)
        priority = PRIORITY.get(route_class)
        if priority is None:
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        gate = self.gate
        if not limiter.try_acquire(priority):
            self.shed_total += 1
            gate.shed()
            with self._lock:
                self._shed[(host.decode("latin-1"), route_class.value)] += 1
            await send(self.start)
            await send(_END)
            return
        status = 500
        browsing = None
        token = None
        if priority is Priority.CRITICAL:
            gate.enter()
        elif priority is Priority.PUBLIC:
            browsing = _Browsing(gate)
            token = _BROWSING.set(browsing)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            latency = time.perf_counter() - began
            if priority is Priority.CRITICAL:
                gate.leave()
            elif browsing is not None and token is not None:
                _BROWSING.reset(token)
                latency -= browsing.paused
                self.paused_seconds += browsing.paused
            limiter.release(priority, latency, sample=status < 500)

    def drain(self) -> dict[tuple[str, str], int]:
        """Refusals per (host, route class) since the last call (any thread)."""
        with self._lock:
            counts, self._shed = self._shed, defaultdict(int)
        return dict(counts)
