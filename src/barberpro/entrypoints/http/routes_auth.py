"""Staff authentication: bearer API tokens and web sessions (cookie + CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from barberpro.application.staff_auth import IssuedToken, login, revoke_token
from barberpro.domain.booking import Actor, ActorKind
from barberpro.domain.errors import NotFound
from barberpro.entrypoints.http.deps import SESSION_COOKIE, CallerDep, PlatformDep, StaffDep, context
from barberpro.entrypoints.http.schemas import LoginIn
from barberpro.entrypoints.http.views import JSON, token_view

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _login(request: Request, body: LoginIn, platform: PlatformDep, caller: CallerDep, kind: str) -> IssuedToken:
    ctx = context(request, platform, caller, Actor(ActorKind.CUSTOMER, None))
    return login(
        platform.uow(caller.tenant.id),
        ctx,
        platform.hasher,
        email=body.email,
        password=body.password,
        kind=kind,
        token_name=body.token_name,
    )


@router.post("/tokens", status_code=201, summary="Log in and get a bearer API token (shown once)")
def create_token(request: Request, body: LoginIn, platform: PlatformDep, caller: CallerDep) -> JSON:
    issued = _login(request, body, platform, caller, "api")
    return JSON({**token_view(issued.token), "token": issued.secret}, status_code=201)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def delete_token(
    request: Request, token_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep
) -> Response:
    revoke_token(platform.uow(caller.tenant.id), context(request, platform, caller), token_id)
    return Response(status_code=204)


@router.post("/session", status_code=201, summary="Log in to the web: sets the session cookie, returns the CSRF token")
def create_session(request: Request, body: LoginIn, platform: PlatformDep, caller: CallerDep) -> JSON:
    issued = _login(request, body, platform, caller, "session")
    response = JSON({**token_view(issued.token), "csrf_token": issued.csrf}, status_code=201)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        httponly=True,
        samesite="lax",
        secure=platform.settings.secure_cookies,
        max_age=12 * 3600,
        path="/",
    )
    return response


@router.delete("/session", status_code=204, summary="Log out of the web")
def delete_session(request: Request, platform: PlatformDep, caller: CallerDep, staff: StaffDep) -> Response:
    if staff.token.kind != "session":
        raise NotFound("no web session")
    revoke_token(platform.uow(caller.tenant.id), context(request, platform, caller), staff.token.id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
