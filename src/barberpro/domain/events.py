"""Domain events: facts recorded in the outbox and published after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    name: str  # e.g. "BookingConfirmed"
    tenant_id: str
    entity_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def booking_event(name: str, booking: Any, occurred_at: datetime, **extra: Any) -> DomainEvent:
    return DomainEvent(
        name=name,
        tenant_id=booking.tenant_id,
        entity_id=booking.id,
        occurred_at=occurred_at,
        data={
            "shop_id": booking.shop_id,
            "barber_id": booking.barber_id,
            "service_id": booking.service_id,
            "start": booking.start.isoformat(),
            "end": booking.end.isoformat(),
            "status": booking.status.value,
            "price": str(booking.price),
            **extra,
        },
    )
