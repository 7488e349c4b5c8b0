"""Cached public reads: the routes call `cached_json`, the bus invalidates per tenant.

Staleness bound for availability (docs/gateway.md): a slot taken by a committed booking
stops being offered within `outbox_poll_seconds` (the relay publishes the event, the
handler bumps the tenant's generation) plus, with Redis, the 0.5 s for which a process
trusts its copy of the generation: 1 s with the defaults. Whatever a cache says, booking
creation re-checks the slot inside its write transaction, so staleness can cost a 409,
never a double booking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from barberpro.domain.events import DomainEvent
from barberpro.ops.gateway.read_cache import ReadCache

CACHED_PREFIX = "/api/v1/shops"
AVAILABILITY_TTL = 15.0  # also bounds how long a slot near the notice cut-off stays offered
CATALOG_TTL = 120.0
# Events that cannot change a public read; every other event (including unknown ones)
# invalidates the tenant's cached reads.
IRRELEVANT_EVENTS = frozenset(
    {
        "StaffLoggedIn",
        "StaffLoginFailed",
        "StaffAccountLocked",
        "ApiTokenRevoked",
        "StaffUserCreated",
        "CustomerCreated",
        "CustomerUpdated",
        "BookingAbuseDetected",
    }
)


def invalidation_handler(cache: ReadCache) -> Callable[[DomainEvent], None]:
    def handle(event: DomainEvent) -> None:
        if event.name not in IRRELEVANT_EVENTS:
            cache.invalidate(event.tenant_id)

    return handle


def request_key(path: str, query_string: bytes) -> str:
    """The cache key of a public read: its path and its query, parameters sorted."""
    pairs = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return path + "?" + urlencode(pairs)


def cached_json(
    request: Request, tenant_id: str, anonymous: bool, key: str, ttl: float, compute: Callable[[], Any]
) -> Response:
    """The JSON body of `compute()`, from the read cache for anonymous callers.

    Entries are keyed by the request's path and query (`key` only names the read in logs and
    tests), so that the fast path below can find them without running the route."""
    cache: ReadCache | None = getattr(request.app.state, "read_cache", None)
    if cache is None or not anonymous:
        return Response(orjson.dumps(compute()), media_type="application/json")
    full_key = request_key(request.url.path, request.scope.get("query_string", b""))
    body = cache.get_or_compute(tenant_id, full_key, ttl, lambda: orjson.dumps(compute()))
    return Response(body, media_type="application/json")


@dataclass(frozen=True)
class _RouteTemplate:
    path: str


def _template(path: str) -> str:
    parts = path.split("/")  # "", "api", "v1", "shops", shop_id, leaf
    if len(parts) == 4:
        return path
    if len(parts) == 5:
        return "/api/v1/shops/{shop_id}"
    return "/api/v1/shops/{shop_id}/" + parts[5]


class ReadCacheFastPath:
    """Answers an anonymous GET of a cached public read straight from the in-process cache,
    without routing, dependency injection or validation: those ran when the entry was made,
    and only successful answers are cached. A miss goes to the route as usual."""

    def __init__(self, app: ASGIApp, *, cache: ReadCache, resolve: Callable[[str], str]) -> None:
        self.app = app
        self.cache = cache
        self.resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(CACHED_PREFIX):
            host = ""
            for name, value in scope["headers"]:
                if name in (b"authorization", b"cookie"):
                    host = ""
                    break
                if name == b"host":
                    host = value.decode("latin-1")
            tenant_id = self.resolve(host) if host else ""
            if tenant_id:
                body = self.cache.peek(tenant_id, request_key(scope["path"], scope.get("query_string", b"")))
                if body is not None:
                    # Metrics and logs label requests by route template, as if routed.
                    scope["route"] = _RouteTemplate(_template(scope["path"]))
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
