"""Manage my booking, from the signed link: see, cancel, reschedule, review; and the .ics file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.application import bookings as usecases
from barberpro.application.availability import find_availability
from barberpro.application.manage_tokens import verify_manage_token
from barberpro.application.reviews import post_review
from barberpro.bootstrap import Platform
from barberpro.domain.booking import ActorKind, Booking, BookingStatus
from barberpro.domain.customers import Customer
from barberpro.domain.errors import DomainError, NotFound
from barberpro.domain.tenancy import Barber, Service, Shop, Tenant
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.booking_flow import parse_start
from barberpro.entrypoints.web.calendar_file import booking_ics
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import PlatformDep, SiteDep, customer_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Token = Annotated[str, Query(max_length=200)]
FormToken = Annotated[str, Form(max_length=200)]
ANY_BARBER = "cualquiera"


@dataclass(frozen=True)
class BookingPage:
    booking: Booking
    shop: Shop
    service: Service | None
    barber: Barber | None
    customer: Customer | None
    reviewed: bool
    token: str

    @property
    def link(self) -> str:
        return f"/reservas/{self.booking.id}?token={self.token}"


def load(platform: Platform, tenant: Tenant, booking_id: str, token: str) -> BookingPage:
    # A wrong token and a missing booking look the same: the link reveals nothing else.
    if not verify_manage_token(platform.secret, tenant.id, booking_id, token):
        raise NotFound("booking not found")
    with platform.uow(tenant.id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
        if booking is None or booking.kind == "block":
            raise NotFound("booking not found")
        shop = uow.shops.get(booking.shop_id)
        assert shop is not None  # foreign key
        return BookingPage(
            booking,
            shop,
            uow.services.get(booking.service_id) if booking.service_id else None,
            uow.barbers.get(booking.barber_id),
            uow.customers.get(booking.customer_id) if booking.customer_id else None,
            uow.reviews.by_booking(booking_id) is not None,
            token,
        )


def _page_values(platform: Platform, page: BookingPage) -> dict[str, Any]:
    now = platform.clock.now()
    booking, zone = page.booking, page.shop.zone
    changeable = booking.is_active and now <= booking.start - page.shop.policy.customer_change_cutoff
    cutoff_hours = page.shop.policy.customer_change_cutoff.total_seconds() / 3600
    return {
        "page": page,
        "when": es_ar.local_when(booking.start, zone),
        "ends": es_ar.local_time(booking.end, zone),
        "changeable": changeable,
        "cutoff_hours": f"{cutoff_hours:g}",
        "can_review": booking.status is BookingStatus.COMPLETED and not page.reviewed,
    }


@router.get("/reservas/{booking_id}")
def manage(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    tenant: SiteDep,
    token: Token,
    nueva: Annotated[bool, Query()] = False,
    aviso: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    page = load(platform, tenant, booking_id, token)
    absolute = str(request.base_url).rstrip("/") + page.link
    return render(request, "manage.html", tenant=tenant, new=nueva, notice=aviso, absolute_link=absolute,
                  **_page_values(platform, page))  # fmt: skip


@router.get("/reservas/{booking_id}/turno.ics")
def calendar(request: Request, booking_id: str, platform: PlatformDep, tenant: SiteDep, token: Token) -> Response:
    page = load(platform, tenant, booking_id, token)
    what = page.service.name if page.service else "Turno"
    body = booking_ics(
        uid=page.booking.id,
        start=page.booking.start,
        end=page.booking.end,
        created=page.booking.created_at,
        summary=f"{what} en {page.shop.name}",
        location=page.shop.address,
        description=f"Con {page.barber.name if page.barber else 'tu barbero/a'}. Gestioná tu turno: "
        + str(request.base_url).rstrip("/") + page.link,
        url=str(request.base_url).rstrip("/") + page.link,
    )  # fmt: skip
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="turno.ics"', "Cache-Control": "no-store"},
    )


def _context(request: Request, platform: Platform, tenant: Tenant, page: BookingPage) -> Any:
    return customer_context(request, platform, tenant, page.booking.customer_id)


@router.post("/reservas/{booking_id}/cancelar")
def cancel(request: Request, booking_id: str, platform: PlatformDep, tenant: SiteDep, token: FormToken) -> Response:
    page = load(platform, tenant, booking_id, token)
    try:
        usecases.cancel_booking(platform.uow(tenant.id), _context(request, platform, tenant, page), booking_id,
                                "cancelado por el cliente desde la web")  # fmt: skip
    except DomainError as exc:
        return render(request, "manage.html", tenant=tenant, status=409, error=es_ar.error_message(exc),
                      **_page_values(platform, page))  # fmt: skip
    request.app.state.metrics.bookings.labels("cancelled").inc()
    return redirect(page.link + "&aviso=cancelado")


def _reschedule_values(
    platform: Platform, tenant: Tenant, page: BookingPage, day: date | None, barber: str | None
) -> dict[str, Any]:
    zone = page.shop.zone
    today = platform.clock.now().astimezone(zone).date()
    chosen = day if day is not None and day >= today else page.booking.start.astimezone(zone).date()
    chosen = max(chosen, today)
    slots = []
    if page.service is not None:
        slots = find_availability(
            platform.uow(tenant.id, write=False),
            shop_id=page.shop.id,
            service_id=page.service.id,
            day=chosen,
            barber_id=None if barber == ANY_BARBER else page.booking.barber_id,
            now_utc=platform.clock.now(),
        )
    return {
        **_page_values(platform, page),
        "day": chosen,
        "days": [today + timedelta(days=i) for i in range(min(14, page.shop.policy.horizon.days))],
        "barber_param": barber or "",
        "slots": [(s.start.isoformat(), es_ar.local_time(s.start, zone)) for s in slots],
    }


@router.get("/reservas/{booking_id}/cambiar")
def reschedule_form(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    tenant: SiteDep,
    token: Token,
    fecha: Annotated[date | None, Query()] = None,
    barbero: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    page = load(platform, tenant, booking_id, token)
    return render(request, "reschedule.html", tenant=tenant,
                  **_reschedule_values(platform, tenant, page, fecha, barbero))  # fmt: skip


@router.post("/reservas/{booking_id}/cambiar")
def reschedule(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    tenant: SiteDep,
    token: FormToken,
    hora: Annotated[str, Form(max_length=40)],
    barbero: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    page = load(platform, tenant, booking_id, token)
    start = parse_start(hora)
    try:
        usecases.reschedule_booking(
            platform.uow(tenant.id), _context(request, platform, tenant, page), booking_id, start=start,
            barber_id="any" if barbero == ANY_BARBER else None,
        )  # fmt: skip
    except DomainError as exc:
        values = _reschedule_values(platform, tenant, page, start.date(), barbero)
        return render(request, "reschedule.html", tenant=tenant, status=409, error=es_ar.error_message(exc),
                      **values)  # fmt: skip
    request.app.state.metrics.bookings.labels("rescheduled").inc()
    return redirect(page.link + "&aviso=cambiado")


@router.post("/reservas/{booking_id}/resena")
def review(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    tenant: SiteDep,
    token: FormToken,
    puntuacion: Annotated[int, Form(ge=1, le=5)],
    texto: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    page = load(platform, tenant, booking_id, token)
    ctx = _context(request, platform, tenant, page)
    assert ctx.actor.kind is ActorKind.CUSTOMER
    try:
        post_review(platform.uow(tenant.id), ctx, booking_id=booking_id, rating=puntuacion, text=texto)
    except DomainError as exc:
        return render(request, "manage.html", tenant=tenant, status=409, error=es_ar.error_message(exc),
                      **_page_values(platform, page))  # fmt: skip
    return redirect(page.link + "&aviso=resena")
