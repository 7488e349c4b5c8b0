"""Staff screen to connect the shop's own MercadoPago account (owners), or see which one is connected.

"Conectar con MercadoPago" (when the platform's MercadoPago application is configured) sends
the owner to MercadoPago's authorization page with a fresh `state` and a PKCE challenge; both,
with the verifier, travel in a cookie sealed for this tenant and this session, valid ten
minutes. The way back (`/staff/mercadopago/vuelta`) connects the account only when MercadoPago
returns that same state to that same session: a code from anyone else's flow (someone trying
to have the shop's money paid into their account) is refused.

With `BARBERPRO_MERCADOPAGO_REDIRECT_URL` set, MercadoPago sends every owner back to that one
platform address (`/mercadopago/vuelta`, on any host), so the platform's application needs one
redirect URL however many white-label domains there are. The state is then sealed and names the
shop address the flow began on; the platform address hands the code over to it, where the
session and the flow's cookie are, and nowhere else (a state we did not seal is refused).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from barberpro.adapters.payments.mercadopago_oauth import pkce_challenge
from barberpro.adapters.payments.services import PaymentServices
from barberpro.adapters.security.secret_box import SecretBox, SecretBoxError
from barberpro.application import mercadopago_accounts
from barberpro.application.payment_ports import GatewayUnauthorized, GatewayUnavailable
from barberpro.application.permissions import require_role
from barberpro.bootstrap import Platform
from barberpro.domain.errors import InvalidValue, NotFound, PolicyViolation
from barberpro.entrypoints.http.routes_payments import services as payment_services
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import PlatformDep, StaffSession, StaffSessionDep, require_csrf

router = APIRouter(prefix="/staff/mercadopago", route_class=WebRoute, include_in_schema=False)
platform_router = APIRouter(route_class=WebRoute, include_in_schema=False)
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
OAUTH_COOKIE = "mp_oauth"
OAUTH_LIFETIME = timedelta(minutes=10)
STATE_LENGTH = 1000  # a sealed hand-over state: nonce, shop address and expiry, encrypted
HANDOFF_PLACE = "platform:mercadopago-oauth-handoff"  # what a sealed state opens for
# MercadoPago's answer on the way back (either way back).
OAuthCode = Annotated[str, Query(max_length=300)]
OAuthState = Annotated[str, Query(max_length=STATE_LENGTH)]
OAuthError = Annotated[str, Query(max_length=100)]
OAUTH_FAILED = "MercadoPago no confirmó la conexión (se canceló, venció o no vino de esta sesión). Probá de nuevo."
OAUTH_REFUSED = "MercadoPago no aceptó la autorización. Probá de nuevo desde el botón «Conectar con MercadoPago»."
OAUTH_CANCELLED = "No se conectó ninguna cuenta: la autorización se canceló en MercadoPago."
OAUTH_FOREIGN = "Esa cuenta de MercadoPago no es de Argentina: conectá una cuenta argentina."


def account_page(
    request: Request, platform: Platform, session: StaffSession, *, status: int = 200, **extra: Any
) -> Response:
    require_role(session.ctx)  # owners and managers see it; only owners change it
    svc = payment_services(platform)
    stored = svc.account_of(session.tenant.id)
    account = mercadopago_accounts.public_view(stored)
    oauth = svc.authorization is not None
    # MercadoPago refused to renew the authorisation (access withdrawn), or it ran out.
    stale = bool(stored and (stored.renewal_refused_at or (stored.expires_at and stored.expires_at <= session.ctx.now)))
    return render(request, "mercadopago.html", tenant=session.tenant, status=status, session=session,
                  account=account, oauth=oauth, stale=stale, **extra)  # fmt: skip


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


def _flow_place(session: StaffSession) -> str:
    """A sealed flow opens only for the tenant and the session that started it."""
    return f"{session.tenant.id}:mercadopago-oauth:{session.auth.token.id}"


def _callback_url(request: Request) -> str:
    # The shop's own address: the staff session cookie comes back only there.
    return str(request.url_for("mercadopago_oauth_return"))


def _redirect_uri(request: Request, platform: Platform) -> str:
    """Where MercadoPago sends the owner back: the platform's one address when configured, else
    the shop's own (then every address owners connect from is registered in the application)."""
    return payment_services(platform).environment.mercadopago_redirect_url or _callback_url(request)


@router.get("/conectar")
def start_oauth(request: Request, platform: PlatformDep, session: StaffSessionDep) -> Response:
    # A link, not a form: starting a flow changes nothing here (a flow someone else starts for
    # the owner can only connect an account the owner authorises at MercadoPago themselves).
    require_role(session.ctx, mercadopago_accounts.OWNERS)
    svc = payment_services(platform)
    authorization = svc.authorization
    if authorization is None:
        raise NotFound("this server has no MercadoPago application configured", field="oauth")
    if svc.box is None:
        return account_page(request, platform, session, status=409, error=NO_KEY)
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = pkce_challenge(verifier)
    expires = session.ctx.now + OAUTH_LIFETIME
    if svc.environment.mercadopago_redirect_url:  # the platform's address hands the code back here
        handoff = {"nonce": state, "back": _callback_url(request), "expires": expires.isoformat()}
        state = svc.box.seal(json.dumps(handoff), HANDOFF_PLACE)
    flow = json.dumps({"state": state, "verifier": verifier, "expires": expires.isoformat()})
    response = RedirectResponse(
        authorization.authorization_url(
            state=state, redirect_uri=_redirect_uri(request, platform), code_challenge=challenge
        ),
        status_code=303,
    )
    response.set_cookie(
        OAUTH_COOKIE,
        svc.box.seal(flow, _flow_place(session)),
        httponly=True,
        samesite="lax",  # sent on MercadoPago's top-level redirect back
        secure=platform.settings.secure_cookies,
        max_age=int(OAUTH_LIFETIME.total_seconds()),
        path="/staff/mercadopago",
    )
    return response


@router.get("/vuelta", name="mercadopago_oauth_return")
def finish_oauth(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    code: OAuthCode = "",
    state: OAuthState = "",
    error: OAuthError = "",
) -> Response:
    require_role(session.ctx, mercadopago_accounts.OWNERS)
    svc = payment_services(platform)
    authorization, flow = svc.authorization, _open_flow(svc.box, request, session)
    if authorization is None or flow is None or not state or not hmac.compare_digest(state, flow["state"]):
        return _done(account_page(request, platform, session, status=400, error=OAUTH_FAILED))
    if error or not code:  # the owner said no at MercadoPago (error=access_denied)
        return _done(account_page(request, platform, session, status=400, error=OAUTH_CANCELLED))
    try:
        mercadopago_accounts.connect_authorized_account(
            svc.uows(session.tenant.id), session.ctx, authorization, svc.gateway_with,
            code=code, redirect_uri=_redirect_uri(request, platform), code_verifier=flow["verifier"],
        )  # fmt: skip
    except InvalidValue as error:
        foreign = "not Argentina" in str(error)
        page = account_page(request, platform, session, status=422, error=OAUTH_FOREIGN if foreign else OAUTH_REFUSED)
        return _done(page)
    except (GatewayUnavailable, GatewayUnauthorized):
        return _done(account_page(request, platform, session, status=503, error=UNREACHABLE))
    return _done(redirect("/staff/mercadopago?aviso=conectada"))


def _open_flow(box: SecretBox | None, request: Request, session: StaffSession) -> dict[str, str] | None:
    """The flow this session started, if it is still fresh; None otherwise (missing, tampered, moved)."""
    sealed = request.cookies.get(OAUTH_COOKIE)
    if box is None or not sealed:
        return None
    try:
        flow: dict[str, str] = json.loads(box.open(sealed, _flow_place(session)))
    except (SecretBoxError, ValueError):
        return None
    if datetime.fromisoformat(flow["expires"]) < session.ctx.now:
        return None
    return flow


def _done(response: Response) -> Response:
    """The flow is spent either way: its cookie goes (a state is never accepted twice)."""
    response.delete_cookie(OAUTH_COOKIE, path="/staff/mercadopago")
    return response


@platform_router.get("/mercadopago/vuelta", name="mercadopago_oauth_handoff")
def hand_over_oauth(
    request: Request,
    platform: PlatformDep,
    code: OAuthCode = "",
    state: OAuthState = "",
    error: OAuthError = "",
) -> Response:
    """MercadoPago's way back to the platform's one address: on to the shop address the sealed
    state names, with MercadoPago's answer as it came. Nothing is connected here (no session)."""
    back = _handoff_address(payment_services(platform), state, platform.clock.now())
    if back is None:
        return render(request, "error.html", tenant=None, status=400, message=OAUTH_FAILED, status_code=400)
    answer = {"code": code, "state": state, "error": error}
    return RedirectResponse(f"{back}?{urlencode({k: v for k, v in answer.items() if v})}", status_code=303)


def _handoff_address(svc: PaymentServices, state: str, now: datetime) -> str | None:
    """The shop's way back named by a state we sealed and that is still fresh; None otherwise
    (no hand-over configured, tampered, expired, or not an address of ours)."""
    if not (svc.environment.mercadopago_redirect_url and svc.box and state):
        return None
    try:
        handoff: dict[str, str] = json.loads(svc.box.open(state, HANDOFF_PLACE))
        expires = datetime.fromisoformat(handoff["expires"])
        back = handoff["back"]
    except (SecretBoxError, ValueError, KeyError, TypeError):
        return None
    address = urlsplit(back)
    if expires < now or address.scheme not in ("http", "https") or address.query or address.fragment:
        return None
    return back
