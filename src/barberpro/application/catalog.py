"""Staff use cases on the catalogue: tenant branding, shops, barbers, services, hours, exceptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.permissions import require_role
from barberpro.application.ports import UnitOfWork
from barberpro.domain.errors import InvalidValue, NotFound
from barberpro.domain.identifiers import new_id
from barberpro.domain.schedules import DateException, ExceptionKind, LocalInterval, WorkingDay
from barberpro.domain.tenancy import (
    Barber,
    BookingPolicy,
    Service,
    Shop,
    Tenant,
    validate_name,
    validate_theme,
    validate_zone,
)


def update_branding(
    uow: UnitOfWork, ctx: Context, *, name: str | None = None, theme: dict[str, str] | None = None
) -> Tenant:
    require_role(ctx)
    with uow:
        before = uow.tenant.get()
        after = replace(
            before,
            name=validate_name(name) if name is not None else before.name,
            theme=validate_theme({**before.theme, **theme}) if theme is not None else before.theme,
        )
        uow.tenant.update(after)
        record(
            uow,
            ctx,
            action="TenantBrandingUpdated",
            entity_type="tenant",
            entity_id=after.id,
            before=before,
            after=after,
        )
        uow.commit()
        return after


def _policy(values: dict[str, Any], base: BookingPolicy) -> BookingPolicy:
    def minutes(key: str, default: timedelta) -> timedelta:
        return timedelta(minutes=int(values[key])) if values.get(key) is not None else default

    return BookingPolicy(
        min_notice=minutes("min_notice_minutes", base.min_notice),
        horizon=timedelta(days=int(values["horizon_days"])) if values.get("horizon_days") else base.horizon,
        customer_change_cutoff=minutes("cancel_cutoff_minutes", base.customer_change_cutoff),
        slot_step=minutes("slot_step_minutes", base.slot_step),
    )


def create_shop(uow: UnitOfWork, ctx: Context, **values: Any) -> Shop:
    require_role(ctx)
    shop = Shop(
        id=new_id(),
        tenant_id=ctx.tenant_id,
        name=validate_name(values["name"]),
        address=validate_name(values.get("address") or "-", "address", 300),
        timezone=validate_zone(values.get("timezone") or "America/Argentina/Buenos_Aires"),
        policy=_policy(values, BookingPolicy()),
    )
    with uow:
        uow.shops.add(shop)
        record(uow, ctx, action="ShopCreated", entity_type="shop", entity_id=shop.id, after=shop)
        uow.commit()
    return shop


def update_shop(uow: UnitOfWork, ctx: Context, shop_id: str, **values: Any) -> Shop:
    require_role(ctx)
    with uow:
        before = uow.shops.get(shop_id)
        if before is None:
            raise NotFound("shop not found", field="shop_id")
        after = replace(
            before,
            name=validate_name(values["name"]) if values.get("name") is not None else before.name,
            address=validate_name(values["address"], "address", 300)
            if values.get("address") is not None
            else before.address,
            timezone=validate_zone(values["timezone"]) if values.get("timezone") else before.timezone,
            active=bool(values["active"]) if values.get("active") is not None else before.active,
            policy=_policy(values, before.policy),
        )
        uow.shops.update(after)
        record(uow, ctx, action="ShopUpdated", entity_type="shop", entity_id=shop_id, before=before, after=after)
        uow.commit()
        return after


def _shop_of(uow: UnitOfWork, shop_id: str) -> Shop:
    shop = uow.shops.get(shop_id)
    if shop is None:
        raise NotFound("shop not found", field="shop_id")
    return shop


def create_barber(uow: UnitOfWork, ctx: Context, *, shop_id: str, name: str, bio: str = "") -> Barber:
    require_role(ctx)
    with uow:
        _shop_of(uow, shop_id)
        barber = Barber(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            shop_id=shop_id,
            name=validate_name(name),
            bio=bio.strip()[:1000],
        )
        uow.barbers.add(barber)
        record(uow, ctx, action="BarberCreated", entity_type="barber", entity_id=barber.id, after=barber)
        uow.commit()
        return barber


def update_barber(uow: UnitOfWork, ctx: Context, barber_id: str, **values: Any) -> Barber:
    require_role(ctx)
    with uow:
        before = uow.barbers.get(barber_id)
        if before is None:
            raise NotFound("barber not found", field="barber_id")
        after = replace(
            before,
            name=validate_name(values["name"]) if values.get("name") is not None else before.name,
            bio=values["bio"].strip()[:1000] if values.get("bio") is not None else before.bio,
            active=bool(values["active"]) if values.get("active") is not None else before.active,
        )
        uow.barbers.update(after)
        record(
            uow,
            ctx,
            action="BarberUpdated",
            entity_type="barber",
            entity_id=barber_id,
            before=before,
            after=after,
        )
        uow.commit()
        return after


def create_service(
    uow: UnitOfWork,
    ctx: Context,
    *,
    shop_id: str,
    name: str,
    duration_minutes: int,
    price: Decimal | str,
    buffer_after_minutes: int = 0,
    description: str = "",
) -> Service:
    require_role(ctx)
    with uow:
        _shop_of(uow, shop_id)
        service = Service(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            shop_id=shop_id,
            name=validate_name(name),
            duration=timedelta(minutes=duration_minutes),
            price=Decimal(price),
            buffer_after=timedelta(minutes=buffer_after_minutes),
            description=description.strip()[:1000],
        )
        uow.services.add(service)
        record(uow, ctx, action="ServiceCreated", entity_type="service", entity_id=service.id, after=service)
        uow.commit()
        return service


def update_service(uow: UnitOfWork, ctx: Context, service_id: str, **values: Any) -> Service:
    require_role(ctx)
    with uow:
        before = uow.services.get(service_id)
        if before is None:
            raise NotFound("service not found", field="service_id")
        after = Service(
            id=before.id,
            tenant_id=before.tenant_id,
            shop_id=before.shop_id,
            name=validate_name(values["name"]) if values.get("name") is not None else before.name,
            duration=timedelta(minutes=values["duration_minutes"])
            if values.get("duration_minutes") is not None
            else before.duration,
            price=Decimal(values["price"]) if values.get("price") is not None else before.price,
            buffer_after=timedelta(minutes=values["buffer_after_minutes"])
            if values.get("buffer_after_minutes") is not None
            else before.buffer_after,
            description=values["description"].strip()[:1000]
            if values.get("description") is not None
            else before.description,
            active=bool(values["active"]) if values.get("active") is not None else before.active,
        )
        uow.services.update(after)
        record(
            uow,
            ctx,
            action="ServiceUpdated",
            entity_type="service",
            entity_id=service_id,
            before=before,
            after=after,
        )
        uow.commit()
        return after


def set_working_hours(
    uow: UnitOfWork, ctx: Context, *, barber_id: str, days: Sequence[WorkingDay]
) -> tuple[WorkingDay, ...]:
    """Replace a barber's whole week (one row per weekday worked)."""
    require_role(ctx)
    weekdays = [d.weekday for d in days]
    if len(weekdays) != len(set(weekdays)):
        raise InvalidValue("each weekday may appear once", field="days")
    with uow:
        if uow.barbers.get(barber_id) is None:
            raise NotFound("barber not found", field="barber_id")
        before = uow.schedules.weeks([barber_id]).get(barber_id, ())
        uow.schedules.replace_week(barber_id, days)
        record(
            uow,
            ctx,
            action="WorkingHoursSet",
            entity_type="barber",
            entity_id=barber_id,
            before={"days": list(before)},
            after={"days": list(days)},
        )
        uow.commit()
        return tuple(sorted(days, key=lambda d: d.weekday))


def add_exception(
    uow: UnitOfWork,
    ctx: Context,
    *,
    shop_id: str,
    day: date,
    kind: ExceptionKind,
    barber_id: str | None = None,
    intervals: Sequence[LocalInterval] = (),
    note: str = "",
) -> DateException:
    require_role(ctx)
    with uow:
        _shop_of(uow, shop_id)
        if barber_id is not None:
            barber = uow.barbers.get(barber_id)
            if barber is None or barber.shop_id != shop_id:
                raise NotFound("barber not found in this shop", field="barber_id")
        exception = DateException(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            shop_id=shop_id,
            day=day,
            kind=kind,
            barber_id=barber_id,
            intervals=tuple(intervals),
            note=note.strip()[:300],
        )
        uow.schedules.add_exception(exception)
        record(
            uow,
            ctx,
            action="DateExceptionAdded",
            entity_type="date_exception",
            entity_id=exception.id,
            after=exception,
        )
        uow.commit()
        return exception


def delete_exception(uow: UnitOfWork, ctx: Context, exception_id: str) -> None:
    require_role(ctx)
    with uow:
        before = uow.schedules.get_exception(exception_id)
        if before is None:
            raise NotFound("exception not found", field="exception_id")
        uow.schedules.delete_exception(exception_id)
        record(
            uow,
            ctx,
            action="DateExceptionDeleted",
            entity_type="date_exception",
            entity_id=exception_id,
            before=before,
        )
        uow.commit()
