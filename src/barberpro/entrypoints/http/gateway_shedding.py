"""Load shedding as the outermost layer (raw ASGI): admit or refuse from `scope` alone.

Under overload most requests are refused, so a refusal must cost next to nothing: it is
decided from the method, path and two headers, before any other middleware, without a
Request object, without reading the body and without a log line; the 503 is prebuilt and
only one in-memory counter moves (exported at scrape time). Refused requests still get a
complete HTTP answer with the security headers and `Retry-After`; the server discards an
unread request body itself and keeps the connection usable.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from barberpro.entrypoints.http.middleware import SECURITY_HEADERS
from barberpro.ops.gateway.concurrency import GradientLimiter, Priority
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


class LoadShedder:
    def __init__(self, app: ASGIApp, *, limiter: GradientLimiter, hsts: bool = False) -> None:
        self.app = app
        self.limiter = limiter
        self.start = _START
        if hsts:
            headers = [*_START["headers"], (b"strict-transport-security", b"max-age=31536000; includeSubDomains")]
            self.start = {**_START, "headers": headers}
        self.shed_total = 0
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
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"authorization":
                # As the guard classifies: only a bearer token makes a staff request.
                credentials = credentials or (value[:7].lower() == b"bearer " and bool(value[7:].strip()))
            elif name == b"cookie" and b"bp_session=" in value:
                credentials = True
        route_class = classify(scope["method"], path, credentials)
        priority = PRIORITY.get(route_class)
        if priority is None:
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        if not limiter.try_acquire(priority):
            self.shed_total += 1
            with self._lock:
                self._shed[(host.decode("latin-1"), route_class.value)] += 1
            await send(self.start)
            await send(_END)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            limiter.release(priority, time.perf_counter() - began, sample=status < 500)

    def drain(self) -> dict[tuple[str, str], int]:
        """Refusals per (host, route class) since the last call (any thread)."""
        with self._lock:
            counts, self._shed = self._shed, defaultdict(int)
        return dict(counts)
