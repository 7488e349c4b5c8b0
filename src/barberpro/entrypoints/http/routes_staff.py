"""Staff API: agenda, booking lists, catalogue administration, staff users, audit trail."""

from __future__ import annotations

from datetime import date as Date
from datetime import time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from barberpro.application import catalog
from barberpro.application.audit_exports import record_trail_export
from barberpro.application.bookings import agenda
from barberpro.application.pagination import decode_cursor, encode_cursor
from barberpro.application.permissions import require_role
from barberpro.application.staff_auth import create_staff_user
from barberpro.domain.errors import NotFound
from barberpro.domain.schedules import WorkingDay
from barberpro.domain.slots import local_day_bounds
from barberpro.entrypoints.http.customer_export import customer_data_download
from barberpro.entrypoints.http.deps import CallerDep, PlatformDep, StaffDep, context
from barberpro.entrypoints.http.schemas import (
    BarberIn,
    BarberPatch,
    BrandingPatch,
    ExceptionIn,
    IntervalIn,
    ServiceIn,
    ServicePatch,
    ShopIn,
    ShopPatch,
    StaffUserIn,
    WeekIn,
)
from barberpro.entrypoints.http.views import (
    JSON,
    barber_view,
    booking_view,
    customer_view,
    exception_view,
    service_view,
    shop_view,
    staff_view,
    tenant_view,
    working_day_view,
)

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


def _pairs(intervals: list[IntervalIn]) -> tuple[tuple[time, time], ...]:
    return tuple((i.start, i.end) for i in intervals)


@router.get("/me", summary="Who the credentials belong to")
def me(platform: PlatformDep, caller: CallerDep, staff: StaffDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        user = uow.staff.get(staff.actor.id or "")
    if user is None:
        raise NotFound("user not found")
    return JSON({"user": staff_view(user), "tenant": tenant_view(caller.tenant)})


@router.get("/agenda", summary="A day of a shop, one column per barber")
def get_agenda(
    request: Request,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    shop_id: Annotated[str, Query(max_length=36)],
    date: Date,
) -> JSON:
    columns = agenda(
        platform.uow(caller.tenant.id, write=False),
        context(request, platform, caller),
        shop_id=shop_id,
        day=date,
    )
    with platform.uow(caller.tenant.id, write=False) as uow:
        shop = uow.shops.get(shop_id)
        assert shop is not None
        ids = {b.customer_id for c in columns for b in c.bookings if b.customer_id}
        customers = {i: uow.customers.get(i) for i in ids}
    return JSON(
        {
            "shop_id": shop_id,
            "date": date.isoformat(),
            "timezone": shop.timezone,
            "barbers": [
                {
                    "barber": barber_view(c.barber),
                    "bookings": [
                        booking_view(b, shop.zone, customer=customers.get(b.customer_id or "")) for b in c.bookings
                    ],
                }
                for c in columns
            ],
        }
    )


@router.get("/bookings", summary="Bookings of a shop in a period (cursor pagination)")
def list_bookings(
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    shop_id: Annotated[str, Query(max_length=36)],
    start: Annotated[Date | None, Query(alias="from")] = None,
    end: Annotated[Date | None, Query(alias="to", description="inclusive")] = None,
    barber_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        shop = uow.shops.get(shop_id)
        if shop is None:
            raise NotFound("shop not found", field="shop_id")
        today = platform.clock.now().astimezone(shop.zone).date()
        first = start or today
        lower, _ = local_day_bounds(first, shop.zone)  # validates the range before any arithmetic
        last = end or first + timedelta(days=30)
        _, upper = local_day_bounds(last, shop.zone)
        items = uow.bookings.between(
            shop.id, lower, upper, barber_id=barber_id, after=decode_cursor(cursor), limit=limit + 1
        )
    more = len(items) > limit
    items = items[:limit]
    return JSON(
        {
            "items": [booking_view(b, shop.zone) for b in items],
            "next_cursor": encode_cursor(items[-1].start, items[-1].id) if more else None,
        }
    )


@router.get("/customers/{customer_id}", summary="A customer of the tenant")
def get_customer(customer_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        customer = uow.customers.get(customer_id)
    if customer is None:
        raise NotFound("customer not found", field="customer_id")
    return JSON(customer_view(customer))


@router.get(
    "/customers/{customer_id}/export",
    summary="Owner/manager: a customer's data as a JSON file (Ley 25.326 access request; audited)",
)
def export_customer(
    request: Request, customer_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> Response:
    return customer_data_download(platform, context(request, platform, caller), customer_id)


@router.patch("/branding", summary="Owner/manager: tenant name and theme")
def patch_branding(
    request: Request, body: BrandingPatch, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> JSON:
    tenant = catalog.update_branding(
        platform.uow(caller.tenant.id), context(request, platform, caller), name=body.name, theme=body.theme
    )
    request.app.state.tenant_resolver.forget()
    return JSON(tenant_view(tenant))


@router.post("/shops", status_code=201, summary="Create a shop")
def create_shop(request: Request, body: ShopIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    shop = catalog.create_shop(platform.uow(caller.tenant.id), context(request, platform, caller), **body.model_dump())
    return JSON(shop_view(shop), status_code=201)


@router.patch("/shops/{shop_id}", summary="Change a shop (name, address, zone, policy, active)")
def patch_shop(
    request: Request,
    shop_id: str,
    body: ShopPatch,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
) -> JSON:
    shop = catalog.update_shop(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        shop_id,
        **body.model_dump(exclude_unset=True),
    )
    return JSON(shop_view(shop))


@router.post("/barbers", status_code=201, summary="Create a barber")
def create_barber(request: Request, body: BarberIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    barber = catalog.create_barber(
        platform.uow(caller.tenant.id), context(request, platform, caller), **body.model_dump()
    )
    return JSON(barber_view(barber), status_code=201)


@router.patch("/barbers/{barber_id}", summary="Change a barber (name, bio, active)")
def patch_barber(
    request: Request,
    barber_id: str,
    body: BarberPatch,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
) -> JSON:
    barber = catalog.update_barber(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        barber_id,
        **body.model_dump(exclude_unset=True),
    )
    return JSON(barber_view(barber))


@router.delete("/barbers/{barber_id}", status_code=204, summary="Retire a barber (kept for history)")
def delete_barber(
    request: Request, barber_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> Response:
    catalog.update_barber(platform.uow(caller.tenant.id), context(request, platform, caller), barber_id, active=False)
    return Response(status_code=204)


@router.get("/barbers/{barber_id}/hours", summary="A barber's weekly hours")
def get_hours(barber_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        if uow.barbers.get(barber_id) is None:
            raise NotFound("barber not found", field="barber_id")
        week = uow.schedules.weeks([barber_id]).get(barber_id, ())
    return JSON({"barber_id": barber_id, "days": [working_day_view(d) for d in week]})


@router.put("/barbers/{barber_id}/hours", summary="Replace a barber's weekly hours (with breaks)")
def put_hours(
    request: Request, barber_id: str, body: WeekIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> JSON:
    days = [WorkingDay(d.weekday, _pairs(d.intervals), _pairs(d.breaks)) for d in body.days]
    week = catalog.set_working_hours(
        platform.uow(caller.tenant.id), context(request, platform, caller), barber_id=barber_id, days=days
    )
    return JSON({"barber_id": barber_id, "days": [working_day_view(d) for d in week]})


@router.post("/services", status_code=201, summary="Create a service")
def create_service(
    request: Request, body: ServiceIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> JSON:
    service = catalog.create_service(
        platform.uow(caller.tenant.id), context(request, platform, caller), **body.model_dump()
    )
    return JSON(service_view(service), status_code=201)


@router.patch("/services/{service_id}", summary="Change a service")
def patch_service(
    request: Request,
    service_id: str,
    body: ServicePatch,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
) -> JSON:
    service = catalog.update_service(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        service_id,
        **body.model_dump(exclude_unset=True),
    )
    return JSON(service_view(service))


@router.delete("/services/{service_id}", status_code=204, summary="Retire a service (kept for history)")
def delete_service(
    request: Request, service_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> Response:
    catalog.update_service(platform.uow(caller.tenant.id), context(request, platform, caller), service_id, active=False)
    return Response(status_code=204)


@router.get("/exceptions", summary="Date exceptions of a shop in a period")
def list_exceptions(
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    shop_id: Annotated[str, Query(max_length=36)],
    start: Annotated[Date, Query(alias="from")],
    end: Annotated[Date, Query(alias="to")],
) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        items = uow.schedules.exceptions(shop_id, start, end)
    return JSON({"items": [exception_view(e) for e in items], "next_cursor": None})


@router.post("/exceptions", status_code=201, summary="Add a day off, holiday or special hours")
def create_exception(
    request: Request, body: ExceptionIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> JSON:
    created = catalog.add_exception(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        shop_id=body.shop_id,
        day=body.day,
        kind=body.kind,
        barber_id=body.barber_id,
        intervals=_pairs(body.intervals),
        note=body.note,
    )
    return JSON(exception_view(created), status_code=201)


@router.delete("/exceptions/{exception_id}", status_code=204, summary="Remove an exception")
def remove_exception(
    request: Request, exception_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> Response:
    catalog.delete_exception(platform.uow(caller.tenant.id), context(request, platform, caller), exception_id)
    return Response(status_code=204)


@router.get("/users", summary="Staff users of the tenant")
def list_users(request: Request, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    require_role(context(request, platform, caller))
    with platform.uow(caller.tenant.id, write=False) as uow:
        users = uow.staff.list()
    return JSON({"items": [staff_view(u) for u in users], "next_cursor": None})


@router.post("/users", status_code=201, summary="Owner: add a staff user with a role")
def create_user(
    request: Request, body: StaffUserIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> JSON:
    user = create_staff_user(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        platform.hasher,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
        barber_id=body.barber_id,
    )
    return JSON(staff_view(user), status_code=201)


@router.get("/audit/export", summary="Owner/manager: the tenant's whole audit trail as CSV or JSON")
def audit_export(
    request: Request,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
) -> Response:
    from barberpro.ops.audit.trail import export

    # Recorded first (and permission-checked there): the export itself is part of the trail.
    record_trail_export(platform.uow(caller.tenant.id), context(request, platform, caller), fmt=format)
    body = export(platform.database, caller.tenant.id, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="auditoria-{caller.tenant.slug}.{format}"'},
    )


@router.get("/audit", summary="Owner/manager: the audit trail (optionally of one entity)")
def audit(
    request: Request,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    entity_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSON:
    require_role(context(request, platform, caller))
    with platform.uow(caller.tenant.id, write=False) as uow:
        entries = uow.audit.list(entity_id=entity_id, limit=limit)
    return JSON(
        {
            "items": [
                {
                    "id": e.id,
                    "actor": e.actor,
                    "action": e.action,
                    "entity_type": e.entity_type,
                    "entity_id": e.entity_id,
                    "before": e.before,
                    "after": e.after,
                    "request_id": e.request_id,
                    "occurred_at": e.occurred_at.isoformat(),
                }
                for e in entries
            ],
            "next_cursor": None,
        }
    )
