"""Staff screen to connect the shop's own MercadoPago account (owners), or see which one is connected."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.application import mercadopago_accounts
from barberpro.application.payment_ports import GatewayUnavailable
from barberpro.application.permissions import require_role
from barberpro.bootstrap import Platform
from barberpro.domain.errors import InvalidValue, NotFound, PolicyViolation
from barberpro.entrypoints.http.routes_payments import services as payment_services
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import PlatformDep, StaffSession, StaffSessionDep, require_csrf

router = APIRouter(prefix="/staff/mercadopago", route_class=WebRoute, include_in_schema=False)
FIELD_ERRORS = {
    "access_token": "Revisá el Access Token: tiene que ser el de producción (APP_USR-…) de una cuenta de "
    "MercadoPago de Argentina, y MercadoPago tiene que aceptarlo.",
    "webhook_secret": "La clave secreta de las notificaciones tiene entre 16 y 128 letras y números; copiala "
    "de la sección Webhooks de tu aplicación en MercadoPago.",
}
NO_KEY = "Este servidor no puede guardar credenciales todavía (falta BARBERPRO_SECRETS_KEY). Avisá a soporte."
UNREACHABLE = "No pudimos comunicarnos con MercadoPago. Probá de nuevo en unos minutos."
NOTICES = {"conectada": "Cuenta conectada: los próximos cobros van a tu cuenta.",
           "desconectada": "Cuenta desconectada: los próximos cobros van a la cuenta de la plataforma."}  # fmt: skip


def account_page(
    request: Request, platform: Platform, session: StaffSession, *, status: int = 200, **extra: Any
) -> Response:
    require_role(session.ctx)  # owners and managers see it; only owners change it
    account = mercadopago_accounts.public_view(payment_services(platform).account_of(session.tenant.id))
    return render(request, "mercadopago.html", tenant=session.tenant, status=status, session=session,
                  account=account, **extra)  # fmt: skip


@router.get("")
def mercadopago_account(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    aviso: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return account_page(request, platform, session, notice=NOTICES.get(aviso or ""))


@router.post("")
def connect_account(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    csrf: Annotated[str, Form(max_length=200)],
    access_token: Annotated[str, Form(max_length=250)] = "",
    webhook_secret: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    require_csrf(session, csrf)
    svc = payment_services(platform)
    try:
        mercadopago_accounts.connect_mercadopago_account(
            svc.uows(session.tenant.id), session.ctx, svc.gateway_with,
            access_token=access_token, webhook_secret=webhook_secret,
        )  # fmt: skip
    except InvalidValue as error:
        field = error.field or "access_token"
        return account_page(request, platform, session, status=422, field=field, error=FIELD_ERRORS[field])
    except PolicyViolation:
        return account_page(request, platform, session, status=409, error=NO_KEY)
    except GatewayUnavailable:
        return account_page(request, platform, session, status=503, error=UNREACHABLE)
    return redirect("/staff/mercadopago?aviso=conectada")


@router.post("/desconectar")
def disconnect_account(
    platform: PlatformDep, session: StaffSessionDep, csrf: Annotated[str, Form(max_length=200)]
) -> Response:
    require_csrf(session, csrf)
    with contextlib.suppress(NotFound):  # already disconnected (a second click): the page says so
        uow = payment_services(platform).uows(session.tenant.id)
        mercadopago_accounts.disconnect_mercadopago_account(uow, session.ctx)
    return redirect("/staff/mercadopago?aviso=desconectada")
