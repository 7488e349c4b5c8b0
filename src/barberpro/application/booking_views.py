"""Read models for the customer booking pages: everything one step shows, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from barberpro.application.availability import load_shop_service, slots_for
from barberpro.application.ports import UnitOfWork
from barberpro.domain.errors import NotFound
from barberpro.domain.slots import Slot, any_barber
from barberpro.domain.tenancy import Barber, Service, Shop


@dataclass(frozen=True)
class AvailabilityView:
    shop: Shop
    service: Service
    barbers: list[Barber]  # the shop's active barbers (for names), not only the chosen one
    today: date  # in the shop's zone
    day: date  # the day shown: the one asked for, never before today
    slots: list[Slot]


def availability_view(
    uow: UnitOfWork,
    *,
    shop_id: str,
    service_id: str,
    barber_id: str | None,
    day: date | None,
    now_utc: datetime,
) -> AvailabilityView:
    """Free times of one day with the shop, service and barbers the page names.

    The same times as `find_availability`, read in one transaction with the catalogue rows
    the page needs, instead of two (on PostgreSQL each transaction also sets the RLS context).
    With any barber, which barber a time would go to is left open (see below).
    """
    with uow:
        shop, service = load_shop_service(uow, shop_id, service_id)
        active = [b for b in uow.barbers.list(shop.id) if b.active]
        chosen = active if barber_id is None else [b for b in active if b.id == barber_id]
        if not chosen and barber_id is not None:
            raise NotFound("barber not found in this shop", field="barber_id")
        today = now_utc.astimezone(shop.zone).date()
        shown = day if day is not None and day >= today else today
        slots = slots_for(uow, shop=shop, service=service, barbers=chosen, days=[shown], now_utc=now_utc)
        if barber_id is None:
            # "Any barber": the page shows times only and the booking picks the least busy
            # barber when it is made, so the per-barber load query is not needed here.
            slots = any_barber(slots, {})
        return AvailabilityView(shop, service, active, today, shown, slots)
