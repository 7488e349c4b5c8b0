"""Customer pages: the tenant's shop page and the four-step booking flow (works without JavaScript)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.application import bookings as usecases
from barberpro.application import payments
from barberpro.application.booking_views import availability_view
from barberpro.application.manage_tokens import issue_manage_token
from barberpro.application.payment_ports import GatewayUnavailable
from barberpro.bootstrap import Platform
from barberpro.domain.booking import BookingStatus
from barberpro.domain.consent import ConsentChannel
from barberpro.domain.errors import DomainError, InvalidValue, NotFound, SlotUnavailable
from barberpro.domain.tenancy import Barber, Service, Shop, Tenant
from barberpro.entrypoints.http.routes_payments import WEBHOOK_PATH
from barberpro.entrypoints.http.routes_payments import services as payment_services
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.privacy_notice import current_notice_version
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import PlatformDep, SiteDep, customer_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ANY_BARBER = "cualquiera"
DAYS_SHOWN = 14
Id = Annotated[str, Query(max_length=36)]
OptionalId = Annotated[str | None, Query(max_length=36)]
Text = Annotated[str, Form(max_length=300)]


@dataclass(frozen=True)
class ShopCatalogue:
    shop: Shop
    services: list[Service]
    barbers: list[Barber]
    reviews: tuple[int, float | None]


def _catalogue(
    platform: Platform,
    tenant: Tenant,
    shop_id: str | None = None,
    *,
    with_reviews: bool = True,
    with_barbers: bool = True,
) -> list[ShopCatalogue]:
    """Active shops with their active services (and barbers, ratings when asked).

    Few round trips on purpose: on a busy PostgreSQL each query costs about a millisecond,
    so the whole tenant's services come in one query and only the pages that show barbers
    or ratings read them.
    """
    with platform.uow(tenant.id, write=False) as uow:
        if shop_id is None:
            shops = [s for s in uow.shops.list() if s.active]
            services = uow.services.list()
            barbers = uow.barbers.list() if with_barbers else []
        else:
            one = uow.shops.get(shop_id)
            shops = [one] if one is not None and one.active else []
            services = uow.services.list(shop_id) if shops else []
            barbers = uow.barbers.list(shop_id) if shops and with_barbers else []
        return [
            ShopCatalogue(
                shop,
                [s for s in services if s.shop_id == shop.id and s.active],
                [b for b in barbers if b.shop_id == shop.id and b.active],
                uow.reviews.summary(shop.id) if with_reviews else (0, None),
            )
            for shop in shops
        ]


@router.get("/")
def shop_page(request: Request, platform: PlatformDep, tenant: SiteDep) -> Response:
    return render(request, "home.html", tenant=tenant, shops=_catalogue(platform, tenant, with_barbers=False))


def parse_start(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidValue("not a time", field="start") from exc
    if moment.tzinfo is None:
        raise InvalidValue("not a time", field="start")
    return moment


def _pick(items: list[Any], item_id: str | None) -> Any:
    found = next((i for i in items if i.id == item_id), None)
    if item_id is not None and found is None:
        raise NotFound("not found")
    return found


def _days(today: date, shop: Shop) -> list[date]:
    count = min(DAYS_SHOWN, max(1, shop.policy.horizon.days))
    return [today + timedelta(days=i) for i in range(count)]


def step_values(
    request: Request,
    platform: Platform,
    tenant: Tenant,
    *,
    shop_id: str | None,
    service_id: str | None,
    barber: str | None,
    day: date | None,
    start: str | None,
    prefill: dict[str, str],
) -> dict[str, Any]:
    """Everything the booking template needs for whichever step the query string reaches."""
    values: dict[str, Any] = {"barber_param": barber, "prefill": prefill}
    if shop_id is not None and service_id is not None and barber is not None and start is None:
        # Step 3, the busiest page: one transaction for the catalogue rows and the free times.
        view = availability_view(
            platform.uow(tenant.id, write=False),
            shop_id=shop_id,
            service_id=service_id,
            barber_id=None if barber == ANY_BARBER else barber,
            day=day,
            now_utc=platform.clock.now(),
        )
        zone = view.shop.zone
        return {
            **values,
            "step": 3,
            "entry": ShopCatalogue(view.shop, [view.service], view.barbers, (0, None)),
            "service": view.service,
            "barber": next((b for b in view.barbers if b.id == barber), None),
            "days": _days(view.today, view.shop),
            "day": view.day,
            "slots": [(s.start.isoformat(), es_ar.local_time(s.start, zone)) for s in view.slots],
        }
    shops = _catalogue(platform, tenant, shop_id, with_reviews=False)
    if not shops:
        raise NotFound("shop not found")
    entry = shops[0]
    service = _pick(entry.services, service_id)
    chosen_barber = None if barber in (None, ANY_BARBER) else _pick(entry.barbers, barber)
    values.update(entry=entry, service=service, barber=chosen_barber, step=1)
    if service is None:
        return values
    values["step"] = 2
    if barber is None or start is None:
        return values
    moment = parse_start(start)
    values.update(
        step=4,
        start=start,
        when=es_ar.local_when(moment, entry.shop.zone),
        idempotency=secrets.token_hex(16),
    )
    return values


def _prefill(nombre: str | None, telefono: str | None, email: str | None) -> dict[str, str]:
    return {k: v for k, v in (("nombre", nombre), ("telefono", telefono), ("email", email)) if v}


@router.get("/reservar")
def booking_step(
    request: Request,
    platform: PlatformDep,
    tenant: SiteDep,
    local: OptionalId = None,
    servicio: OptionalId = None,
    barbero: OptionalId = None,
    fecha: Annotated[date | None, Query()] = None,
    hora: Annotated[str | None, Query(max_length=40)] = None,
    nombre: Annotated[str | None, Query(max_length=120)] = None,
    telefono: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    parcial: Annotated[bool, Query()] = False,
) -> Response:
    if local is None:
        shops = _catalogue(platform, tenant, with_reviews=False, with_barbers=False)
        if len(shops) != 1:
            return redirect("/")
        local = shops[0].shop.id
    values = step_values(
        request, platform, tenant, shop_id=local, service_id=servicio, barber=barbero, day=fecha,
        start=hora, prefill=_prefill(nombre, telefono, email),
    )  # fmt: skip
    # With JavaScript on, changing the day fetches only the list of times.
    template = "slots_fragment.html" if parcial and values["step"] == 3 else "book.html"
    return render(request, template, tenant=tenant, **values)


@router.post("/reservar")
def book(
    request: Request,
    platform: PlatformDep,
    tenant: SiteDep,
    local: Annotated[str, Form(max_length=36)],
    servicio: Annotated[str, Form(max_length=36)],
    barbero: Annotated[str, Form(max_length=36)],
    hora: Annotated[str, Form(max_length=40)],
    nombre: Text,
    telefono: Annotated[str, Form(max_length=40)],
    email: Annotated[str, Form(max_length=254)],
    clave: Annotated[str, Form(max_length=64)],
    notas: Annotated[str, Form(max_length=500)] = "",
    consentimiento: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    prefill = {"nombre": nombre, "telefono": telefono, "email": email, "notas": notas}
    common: dict[str, Any] = {"shop_id": local, "service_id": servicio, "barber": barbero, "prefill": prefill}
    try:
        if consentimiento is None:
            raise InvalidValue("consent missing", field="consent")
        command = usecases.BookAppointment(
            shop_id=local,
            service_id=servicio,
            barber_id=None if barbero == ANY_BARBER else barbero,
            start=parse_start(hora),
            customer=usecases.CustomerDetails(name=nombre, phone=telefono, email=email),
            notes=notas,
            # The checkbox is required above: the consent is recorded with the booking, or neither is.
            consent=usecases.ConsentGiven(current_notice_version(), ConsentChannel.WEB),
        )
        result = usecases.book_appointment(
            platform.uow(tenant.id),
            customer_context(request, platform, tenant),
            command,
            idempotency_key=f"web-{clave}",
            request_fingerprint=usecases.fingerprint({**prefill, "start": hora, "shop": local,
                                                      "service": servicio, "barber": barbero}),
            prepayment=payment_services(platform).prepayment,
        )  # fmt: skip
    except SlotUnavailable as exc:
        # Somebody else took the time while this customer was typing: fresh times, same data.
        values = step_values(request, platform, tenant, day=parse_start(hora).date(), start=None, **common)
        return render(request, "book.html", tenant=tenant, status=409, notice=es_ar.error_message(exc), **values)
    except DomainError as exc:
        values = step_values(request, platform, tenant, day=None, start=hora, **common)
        message = (
            "Para reservar, aceptá el aviso de privacidad." if exc.field == "consent" else es_ar.error_message(exc)
        )
        return render(request, "book.html", tenant=tenant, status=422, error=message, error_field=exc.field,
                      **values)  # fmt: skip
    request.app.state.metrics.bookings.labels("replayed" if result.replayed else "created").inc()
    token = issue_manage_token(platform.secret, tenant.id, result.booking.id)
    manage = f"/reservas/{result.booking.id}?token={token}&nueva=1"
    if result.booking.status is BookingStatus.PENDING_PAYMENT:
        # The shop takes payment up front: on to MercadoPago; the slot is held meanwhile.
        checkout = _checkout_url(request, platform, tenant, result.booking.id, manage)
        return redirect(checkout or manage)
    return redirect(manage)


def _checkout_url(request: Request, platform: Platform, tenant: Tenant, booking_id: str, manage: str) -> str | None:
    """MercadoPago's checkout for a held booking; None if MercadoPago cannot be reached now."""
    svc = payment_services(platform)
    base = str(request.base_url).rstrip("/")
    existing = None
    with svc.uows(tenant.id, write=False) as uow:
        existing = uow.payments.for_booking(booking_id)
    if existing is not None and existing.checkout_url:
        return existing.checkout_url
    try:
        payment = payments.start_checkout(
            svc.uows, customer_context(request, platform, tenant), svc.gateway_for(tenant.id), booking_id,
            notification_url=f"{base}{WEBHOOK_PATH}?source_news=webhooks", back_url=f"{base}{manage}",
        )  # fmt: skip
    except GatewayUnavailable:
        return None
    return payment.checkout_url
