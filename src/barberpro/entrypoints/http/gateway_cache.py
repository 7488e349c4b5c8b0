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
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from barberpro.domain.events import DomainEvent
from barberpro.ops.gateway.read_cache import ReadCache

AVAILABILITY_TTL = 15.0  # also bounds how long a slot near the notice cut-off stays offered
CATALOG_TTL = 120.0
# Events that cannot change a public read; every other event (including unknown ones)
# invalidates the tenant's cached reads.
IRRELEVANT_EVENTS = frozenset({
    "StaffLoggedIn", "StaffLoginFailed", "StaffAccountLocked", "ApiTokenRevoked", "StaffUserCreated",
    "CustomerCreated", "CustomerUpdated", "BookingAbuseDetected",
})


def invalidation_handler(cache: ReadCache) -> Callable[[DomainEvent], None]:
    def handle(event: DomainEvent) -> None:
        if event.name not in IRRELEVANT_EVENTS:
            cache.invalidate(event.tenant_id)

    return handle


def cached_json(
    request: Request, tenant_id: str, anonymous: bool, key: str, ttl: float, compute: Callable[[], Any]
) -> Response:
    """The JSON body of `compute()`, from the read cache for anonymous callers."""
    cache: ReadCache | None = getattr(request.app.state, "read_cache", None)
    if cache is None or not anonymous:
        return Response(orjson.dumps(compute()), media_type="application/json")
    body = cache.get_or_compute(tenant_id, key, ttl, lambda: orjson.dumps(compute()))
    return Response(body, media_type="application/json")
