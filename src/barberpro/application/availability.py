"""Query: free slots for a service on a local date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from barberpro.application.ports import UnitOfWork
from barberpro.domain.errors import NotFound
from barberpro.domain.slots import BarberWeek, Slot, any_barber, available_slots, local_day_bounds
from barberpro.domain.tenancy import Barber, Service, Shop


def load_shop_service(uow: UnitOfWork, shop_id: str, service_id: str) -> tuple[Shop, Service]:
    shop = uow.shops.get(shop_id)
    if shop is None or not shop.active:
        raise NotFound("shop not found", field="shop_id")
    service = uow.services.get(service_id)
    if service is None or service.shop_id != shop.id or not service.active:
        raise NotFound("service not found in this shop", field="service_id")
    return shop, service


def bookable_barbers(uow: UnitOfWork, shop: Shop, barber_id: str | None) -> list[Barber]:
    if barber_id is None:
        return [b for b in uow.barbers.list(shop.id) if b.active]
    barber = uow.barbers.get(barber_id)
    if barber is None or barber.shop_id != shop.id or not barber.active:
        raise NotFound("barber not found in this shop", field="barber_id")
    return [barber]


def slots_for(
    uow: UnitOfWork,
    *,
    shop: Shop,
    service: Service,
    barbers: list[Barber],
    days: list[date],
    now_utc: datetime,
    exclude_booking_id: str | None = None,
) -> list[Slot]:
    """All (start, barber) pairs free on the given days, per barber (not merged)."""
    if not barbers or not days:
        return []
    ids = [b.id for b in barbers]
    weeks = uow.schedules.weeks(ids)
    start, _ = local_day_bounds(min(days), shop.zone)
    _, end = local_day_bounds(max(days), shop.zone)
    # A booking that started the evening before can still block the morning.
    busy = uow.bookings.busy(ids, start - timedelta(hours=12), end + timedelta(hours=12), exclude_booking_id)
    exceptions = uow.schedules.exceptions(shop.id, min(days), max(days))
    return available_slots(
        zone=shop.zone,
        days=days,
        duration=service.duration,
        buffer_after=service.buffer_after,
        barbers=[BarberWeek(b.id, weeks.get(b.id, ())) for b in barbers],
        exceptions=exceptions,
        busy=busy,
        now=now_utc,
        policy=shop.policy,
    )


def find_availability(
    uow: UnitOfWork,
    *,
    shop_id: str,
    service_id: str,
    day: date,
    barber_id: str | None,
    now_utc: datetime,
) -> list[Slot]:
    with uow:
        shop, service = load_shop_service(uow, shop_id, service_id)
        barbers = bookable_barbers(uow, shop, barber_id)
        slots = slots_for(uow, shop=shop, service=service, barbers=barbers, days=[day], now_utc=now_utc)
        if barber_id is not None:
            return slots
        day_start, day_end = local_day_bounds(day, shop.zone)
        load = uow.bookings.count_by_barber([b.id for b in barbers], day_start, day_end)
        return any_barber(slots, load)
