"""Admin for owners and managers: shops, barbers, services, hours, exceptions, staff users, branding."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.application import catalog
from barberpro.application.staff_auth import create_staff_user
from barberpro.application.staff_users import change_staff_role, set_staff_active
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Role
from barberpro.domain.errors import DomainError, InvalidValue, NotFound, PermissionDenied
from barberpro.domain.schedules import ExceptionKind, WorkingDay
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import (
    PlatformDep,
    StaffSession,
    StaffSessionDep,
    require_csrf,
    require_manager,
)
from barberpro.entrypoints.web.theme import contrast_problems

router = APIRouter(prefix="/staff/admin", route_class=WebRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
ShopForm = Annotated[str, Form(max_length=36)]
Name = Annotated[str, Form(max_length=120)]
Colour = Annotated[str, Form(pattern=r"^#[0-9a-fA-F]{6}$")]
OptionalTime = Annotated[str, Form(max_length=5)]


def admin_page(
    request: Request, platform: Platform, session: StaffSession, shop_id: str | None, *, status: int = 200,
    **extra: Any,
) -> Response:  # fmt: skip
    require_manager(session)
    with platform.uow(session.tenant.id, write=False) as uow:
        shops = uow.shops.list()
        shop = next((s for s in shops if s.id == shop_id), shops[0] if shops else None)
        barbers = uow.barbers.list(shop.id) if shop else []
        services = uow.services.list(shop.id) if shop else []
        weeks = uow.schedules.weeks([b.id for b in barbers])
        today = platform.clock.now().astimezone(shop.zone).date() if shop else date.today()
        exceptions = uow.schedules.exceptions(shop.id, today, today + timedelta(days=90)) if shop else []
        users = uow.staff.list()
    hours = {b.id: {d.weekday: d for d in weeks.get(b.id, ())} for b in barbers}  # barber -> weekday -> WorkingDay
    return render(
        request, "admin.html", tenant=session.tenant, status=status, session=session, shops=shops, shop=shop,
        barbers=barbers, services=services, hours=hours, exceptions=exceptions, users=users,
        barber_names={b.id: b.name for b in barbers}, **extra,
    )  # fmt: skip


@router.get("")
def admin(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    local: Annotated[str | None, Query(max_length=36)] = None,
    aviso: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return admin_page(request, platform, session, local, notice=aviso)


def _done(shop_id: str | None, notice: str) -> Response:
    return redirect(f"/staff/admin?local={shop_id or ''}&aviso={notice}")


def _guarded(request: Request, platform: Platform, session: StaffSession, csrf: str, shop_id: str | None,
             action: Any, notice: str, *, passthrough: tuple[type[DomainError], ...] = ()) -> Response:  # fmt: skip
    """CSRF and role first; a domain error re-renders the admin page with the message.

    Errors in `passthrough` become the error page instead (a 403 or 404, not a form message).
    """
    require_csrf(session, csrf)
    require_manager(session)
    try:
        action()
    except passthrough:
        raise
    except DomainError as exc:
        return admin_page(request, platform, session, shop_id, status=422, error=es_ar.error_message(exc))
    return _done(shop_id, notice)


@router.post("/marca")
def branding(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, nombre: Name,
    primario: Colour, acento: Colour, fondo: Colour, texto: Colour,
    logo: Annotated[str, Form(max_length=500)] = "", local: ShopForm = "",
) -> Response:  # fmt: skip
    theme = {"primary": primario, "accent": acento, "background": fondo, "text": texto, "logo_url": logo.strip()}

    def apply() -> None:
        problems = contrast_problems(theme)
        if problems:
            raise InvalidValue(" ".join(problems), field="theme")
        if theme["logo_url"] and not (theme["logo_url"].startswith("/") or theme["logo_url"].startswith("data:")):
            raise InvalidValue("El logo debe estar en este mismo sitio (una ruta que empiece con /).", field="logo")
        catalog.update_branding(platform.uow(session.tenant.id), session.ctx, name=nombre, theme=theme)
        request.app.state.tenant_resolver.forget()

    return _guarded(request, platform, session, csrf, local, apply, "marca")


@router.post("/locales")
def create_shop(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, nombre: Name,
    direccion: Annotated[str, Form(max_length=300)],
    zona: Annotated[str, Form(max_length=64)] = "America/Argentina/Buenos_Aires",
) -> Response:  # fmt: skip
    created: list[str] = []

    def apply() -> None:
        shop = catalog.create_shop(platform.uow(session.tenant.id), session.ctx, name=nombre, address=direccion,
                                   timezone=zona)  # fmt: skip
        created.append(shop.id)

    response = _guarded(request, platform, session, csrf, None, apply, "local")
    return _done(created[0], "local") if created else response


@router.post("/locales/{shop_id}")
def update_shop(
    request: Request, shop_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, nombre: Name,
    direccion: Annotated[str, Form(max_length=300)],
    anticipacion: Annotated[int, Form(ge=0, le=10080)], limite_cambios: Annotated[int, Form(ge=0, le=10080)],
    activo: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.update_shop(platform.uow(session.tenant.id), session.ctx, shop_id, name=nombre, address=direccion,
                            min_notice_minutes=anticipacion, cancel_cutoff_minutes=limite_cambios,
                            active=activo is not None)  # fmt: skip

    return _guarded(request, platform, session, csrf, shop_id, apply, "local")


@router.post("/barberos")
def create_barber(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, local: ShopForm, nombre: Name,
    bio: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.create_barber(platform.uow(session.tenant.id), session.ctx, shop_id=local, name=nombre, bio=bio)

    return _guarded(request, platform, session, csrf, local, apply, "barbero")


@router.post("/barberos/{barber_id}/estado")
def barber_active(
    request: Request, barber_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf,
    local: ShopForm, activo: Annotated[str, Form(pattern="^(si|no)$")],
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.update_barber(platform.uow(session.tenant.id), session.ctx, barber_id, active=activo == "si")

    return _guarded(request, platform, session, csrf, local, apply, "barbero")


def _clock(raw: str, label: str) -> time | None:
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidValue(f"{label}: usá el formato HH:MM", field=label) from exc


@router.post("/barberos/{barber_id}/horario")
async def working_hours(request: Request, barber_id: str, platform: PlatformDep, session: StaffSessionDep) -> Response:
    # Fourteen time fields (two per weekday and break): read the form as a whole.
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    local = fields.get("local", "")

    def apply() -> None:
        days = []
        for weekday in range(7):
            start = _clock(fields.get(f"desde_{weekday}", ""), "desde")
            end = _clock(fields.get(f"hasta_{weekday}", ""), "hasta")
            pause = (_clock(fields.get(f"pausa_desde_{weekday}", ""), "pausa"),
                     _clock(fields.get(f"pausa_hasta_{weekday}", ""), "pausa"))  # fmt: skip
            if start is None or end is None:
                continue
            breaks = ((pause[0], pause[1]),) if pause[0] and pause[1] else ()
            days.append(WorkingDay(weekday, ((start, end),), breaks))
        catalog.set_working_hours(platform.uow(session.tenant.id), session.ctx, barber_id=barber_id, days=days)

    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        _guarded, request, platform, session, fields.get("csrf", ""), local, apply, "horario"
    )


@router.post("/servicios")
def create_service(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, local: ShopForm, nombre: Name,
    duracion: Annotated[int, Form(ge=5, le=480)], precio: Annotated[str, Form(max_length=20)],
    pausa: Annotated[int, Form(ge=0, le=120)] = 0,
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.create_service(platform.uow(session.tenant.id), session.ctx, shop_id=local, name=nombre,
                               duration_minutes=duracion, price=_price(precio), buffer_after_minutes=pausa)  # fmt: skip

    return _guarded(request, platform, session, csrf, local, apply, "servicio")


def _price(raw: str) -> Decimal:
    """Accepts `12.345,50`, `12345,50` and `12345.50`."""
    text = raw.strip().replace("$", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise InvalidValue("Precio: usá un número como 12.345,50", field="price") from exc


@router.post("/servicios/{service_id}")
def update_service(
    request: Request, service_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf,
    local: ShopForm, nombre: Name, duracion: Annotated[int, Form(ge=5, le=480)],
    precio: Annotated[str, Form(max_length=20)], activo: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.update_service(platform.uow(session.tenant.id), session.ctx, service_id, name=nombre,
                               duration_minutes=duracion, price=_price(precio), active=activo is not None)  # fmt: skip

    return _guarded(request, platform, session, csrf, local, apply, "servicio")


@router.post("/excepciones")
def add_exception(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, local: ShopForm,
    dia: Annotated[date, Form()], tipo: Annotated[str, Form(max_length=20)],
    barbero: Annotated[str, Form(max_length=36)] = "", desde: OptionalTime = "", hasta: OptionalTime = "",
    nota: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    def apply() -> None:
        try:
            kind = ExceptionKind(tipo)
        except ValueError as exc:
            raise InvalidValue("unknown kind", field="kind") from exc
        start, end = _clock(desde, "desde"), _clock(hasta, "hasta")
        intervals = ((start, end),) if kind is ExceptionKind.SPECIAL_HOURS and start and end else ()
        catalog.add_exception(platform.uow(session.tenant.id), session.ctx, shop_id=local, day=dia, kind=kind,
                              barber_id=barbero or None, intervals=intervals, note=nota)  # fmt: skip

    return _guarded(request, platform, session, csrf, local, apply, "excepcion")


@router.post("/excepciones/{exception_id}/borrar")
def delete_exception(
    request: Request, exception_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf,
    local: ShopForm,
) -> Response:  # fmt: skip
    def apply() -> None:
        catalog.delete_exception(platform.uow(session.tenant.id), session.ctx, exception_id)

    return _guarded(request, platform, session, csrf, local, apply, "excepcion")


@router.post("/usuarios")
def create_user(
    request: Request, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf, nombre: Name,
    email: Annotated[str, Form(max_length=254)], password: Annotated[str, Form(max_length=200)],
    rol: Annotated[str, Form(pattern="^(owner|manager|barber)$")],
    barbero: Annotated[str, Form(max_length=36)] = "", local: ShopForm = "",
) -> Response:  # fmt: skip
    def apply() -> None:
        create_staff_user(platform.uow(session.tenant.id), session.ctx, platform.hasher, email=email, name=nombre,
                          password=password, role=Role(rol), barber_id=barbero or None)  # fmt: skip

    return _guarded(request, platform, session, csrf, local, apply, "usuario")


# Another tenant's user id is "not found" and a manager is refused outright, as on the API.
_USER_ERRORS = (NotFound, PermissionDenied)


@router.post("/usuarios/{user_id}/rol")
def user_role(
    request: Request, user_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf,
    rol: Annotated[str, Form(pattern="^(owner|manager|barber)$")], local: ShopForm = "",
) -> Response:  # fmt: skip
    def apply() -> None:
        change_staff_role(platform.uow(session.tenant.id), session.ctx, user_id, role=Role(rol))

    return _guarded(request, platform, session, csrf, local, apply, "usuario", passthrough=_USER_ERRORS)


@router.post("/usuarios/{user_id}/estado")
def user_active(
    request: Request, user_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Csrf,
    activo: Annotated[str, Form(pattern="^(si|no)$")], local: ShopForm = "",
) -> Response:  # fmt: skip
    def apply() -> None:
        set_staff_active(platform.uow(session.tenant.id), session.ctx, user_id, active=activo == "si")

    return _guarded(request, platform, session, csrf, local, apply, "usuario", passthrough=_USER_ERRORS)
