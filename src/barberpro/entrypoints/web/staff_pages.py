"""Staff pages: log-in and log-out, and the day's agenda (status changes, walk-ins, blocked time)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.application import bookings as usecases
from barberpro.application import invoicing
from barberpro.application.payment_ports import InvoiceStatus
from barberpro.application.staff_auth import login, revoke_token
from barberpro.bootstrap import Platform
from barberpro.domain.booking import ActorKind
from barberpro.domain.errors import DomainError, InvalidValue, NotFound, SlotUnavailable
from barberpro.domain.tenancy import Shop
from barberpro.entrypoints.http.routes_payments import services as payment_services
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.booking_money import money_of_bookings
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import (
    PlatformDep,
    SiteDep,
    StaffSession,
    StaffSessionDep,
    clear_session_cookies,
    customer_context,
    get_staff,
    require_csrf,
    set_session_cookies,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
ShopForm = Annotated[str, Form(max_length=36)]
DayForm = Annotated[date, Form()]


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" would be another host.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/agenda"


@router.get("/staff/ingresar")
def login_form(
    request: Request,
    platform: PlatformDep,
    tenant: SiteDep,
    siguiente: Annotated[str | None, Query(max_length=300)] = None,
    salio: Annotated[bool, Query()] = False,
) -> Response:
    return render(request, "login.html", tenant=tenant, next=_safe_next(siguiente), logged_out=salio)


@router.post("/staff/ingresar")
def login_submit(
    request: Request,
    platform: PlatformDep,
    tenant: SiteDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    siguiente: Annotated[str, Form(max_length=300)] = "/staff/agenda",
) -> Response:
    try:
        issued = login(
            platform.uow(tenant.id), customer_context(request, platform, tenant), platform.hasher,
            email=email, password=password, kind="session", token_name="web",  # noqa: S106 - a label, not a secret
        )  # fmt: skip
    except DomainError as exc:
        status = 423 if exc.code == "account-locked" else 401
        return render(request, "login.html", tenant=tenant, status=status, error=es_ar.error_message(exc),
                      next=_safe_next(siguiente), email=email)  # fmt: skip
    response = redirect(_safe_next(siguiente))
    assert issued.csrf is not None
    set_session_cookies(response, issued.secret, issued.csrf, secure=platform.settings.secure_cookies)
    return response


@router.post("/staff/salir")
def logout(request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf) -> Response:
    require_csrf(session, csrf)
    revoke_token(platform.uow(session.tenant.id), session.ctx, session.auth.token.id)
    response = redirect("/staff/ingresar?salio=1")
    clear_session_cookies(response)
    return response


def _shop(platform: Platform, session: StaffSession, shop_id: str | None) -> tuple[Shop, list[Shop]]:
    with platform.uow(session.tenant.id, write=False) as uow:
        shops = uow.shops.list()
    if not shops:
        raise NotFound("shop not found")
    chosen = next((s for s in shops if s.id == shop_id), None) if shop_id else shops[0]
    if chosen is None:
        raise NotFound("shop not found")
    return chosen, shops


def agenda_page(
    request: Request,
    platform: Platform,
    session: StaffSession,
    shop_id: str | None,
    day: date | None,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    shop, shops = _shop(platform, session, shop_id)
    zone = shop.zone
    now = platform.clock.now()
    chosen = day or now.astimezone(zone).date()
    columns = usecases.agenda(platform.uow(session.tenant.id, write=False), session.ctx, shop_id=shop.id,
                              day=chosen)  # fmt: skip
    with platform.uow(session.tenant.id, write=False) as uow:
        ids = {b.customer_id for c in columns for b in c.bookings if b.customer_id}
        customers = {i: uow.customers.get(i) for i in ids}
        services = {s.id: s for s in uow.services.list(shop.id)}
    money = money_of_bookings(platform, session.tenant.id, (b.id for c in columns for b in c.bookings))
    rows = [
        {
            "barber": column.barber,
            "bookings": [
                {
                    "booking": b,
                    "from": es_ar.local_time(b.start, zone),
                    "to": es_ar.local_time(b.end, zone),
                    "customer": customers.get(b.customer_id or ""),
                    "service": services.get(b.service_id or ""),
                    "started": now >= b.start,
                    "money": money.get(b.id),
                }
                for b in column.bookings
            ],
        }
        for column in columns
    ]
    return render(
        request, "agenda.html", tenant=session.tenant, status=status, session=session, shop=shop, shops=shops,
        day=chosen, day_label=es_ar.day_label(chosen), columns=rows, previous_day=chosen - timedelta(days=1),
        next_day=chosen + timedelta(days=1),
        services=[s for s in services.values() if s.active], **extra,
    )  # fmt: skip


@router.get("/staff")
def staff_home() -> Response:
    return redirect("/staff/agenda")


@router.get("/staff/agenda")
def agenda(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    local: Annotated[str | None, Query(max_length=36)] = None,
    fecha: Annotated[date | None, Query()] = None,
    aviso: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return agenda_page(request, platform, session, local, fecha, notice=aviso)


NOTICES = {"completar": "completado", "no-vino": "no_show", "cancelar": "cancelado", "reenviar-afip": "afip"}


@router.post("/staff/agenda/turnos/{booking_id}/{action}")
def change_status(
    request: Request,
    booking_id: str,
    action: str,
    platform: PlatformDep,
    session: StaffSessionDep,
    csrf: Csrf,
    local: ShopForm,
    fecha: DayForm,
) -> Response:
    require_csrf(session, csrf)
    uow = platform.uow(session.tenant.id)
    try:
        if action == "completar":
            usecases.mark_completed(uow, session.ctx, booking_id)
        elif action == "no-vino":
            usecases.mark_no_show(uow, session.ctx, booking_id)
        elif action == "cancelar":
            usecases.cancel_booking(uow, session.ctx, booking_id, "cancelado por el local")
        elif action == "reenviar-afip":
            svc = payment_services(platform)
            sent = invoicing.resend_rejected(svc.uows, session.ctx, svc.tax_authority, svc.lock, booking_id)
            if any(v.status is InvoiceStatus.REJECTED for v in sent):
                error = "AFIP volvió a rechazar el comprobante: revisá sus observaciones antes de reenviarlo."
                return agenda_page(request, platform, session, local, fecha, status=409, error=error)
        else:
            raise NotFound("unknown action")
    except DomainError as exc:
        return agenda_page(request, platform, session, local, fecha, status=409, error=es_ar.error_message(exc))
    return redirect(f"/staff/agenda?local={local}&fecha={fecha.isoformat()}&aviso={NOTICES[action]}")


def _at(day: date, raw: time, shop: Shop) -> datetime:
    return datetime.combine(day, raw, tzinfo=shop.zone)


@router.post("/staff/agenda/sin-turno")
def walk_in(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    csrf: Csrf,
    local: ShopForm,
    fecha: DayForm,
    servicio: Annotated[str, Form(max_length=36)],
    barbero: Annotated[str, Form(max_length=36)],
    hora: Annotated[time, Form()],
    nombre: Annotated[str, Form(max_length=120)],
    telefono: Annotated[str, Form(max_length=40)],
    email: Annotated[str, Form(max_length=254)],
) -> Response:
    require_csrf(session, csrf)
    assert session.ctx.actor.kind is ActorKind.STAFF
    shop, _ = _shop(platform, session, local)
    try:
        usecases.book_appointment(
            platform.uow(session.tenant.id), session.ctx,
            usecases.BookAppointment(
                shop_id=shop.id, service_id=servicio, barber_id=barbero or None, start=_at(fecha, hora, shop),
                customer=usecases.CustomerDetails(name=nombre, phone=telefono, email=email), kind="walk_in",
            ),
        )  # fmt: skip
    except SlotUnavailable:
        # Staff may book inside the notice period, so the customer-facing reason would mislead.
        return agenda_page(request, platform, session, local, fecha, status=409, error=es_ar.STAFF_SLOT_TAKEN)
    except DomainError as exc:
        return agenda_page(request, platform, session, local, fecha, status=409, error=es_ar.error_message(exc))
    return redirect(f"/staff/agenda?local={local}&fecha={fecha.isoformat()}&aviso=sin-turno")


@router.post("/staff/agenda/bloqueos")
def block(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    csrf: Csrf,
    local: ShopForm,
    fecha: DayForm,
    barbero: Annotated[str, Form(max_length=36)],
    desde: Annotated[time, Form()],
    hasta: Annotated[time, Form()],
    nota: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(session, csrf)
    shop, _ = _shop(platform, session, local)
    try:
        if hasta <= desde:
            raise InvalidValue("the block must end after it starts", field="hasta")
        usecases.block_time(platform.uow(session.tenant.id), session.ctx, barber_id=barbero,
                            start=_at(fecha, desde, shop), end=_at(fecha, hasta, shop), note=nota)  # fmt: skip
    except DomainError as exc:
        return agenda_page(request, platform, session, local, fecha, status=409, error=es_ar.error_message(exc))
    return redirect(f"/staff/agenda?local={local}&fecha={fecha.isoformat()}&aviso=bloqueo")


__all__ = ["get_staff", "router"]
