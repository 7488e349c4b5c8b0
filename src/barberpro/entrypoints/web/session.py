"""Which tenant a page is for, and the staff web session (cookie + CSRF token in a hidden field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from barberpro.application.context import Context
from barberpro.application.staff_auth import SESSION_LIFETIME, Authenticated, authenticate, check_csrf
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from barberpro.domain.errors import NotFound, PermissionDenied, Unauthenticated
from barberpro.domain.tenancy import Tenant
from barberpro.entrypoints.http.deps import SESSION_COOKIE, get_platform, request_context
from barberpro.entrypoints.http.tenancy import TenantResolver
from barberpro.entrypoints.web.rendering import LoginRequired

# The CSRF token is shown once at log-in; the browser keeps it in its own HttpOnly cookie so
# that every page can put it in its forms. The server checks it against the stored digest,
# so a cookie planted by someone else does not pass.
CSRF_COOKIE = "bp_csrf"


async def web_platform(request: Request) -> Platform:
    return await get_platform(request)


PlatformDep = Annotated[Platform, Depends(web_platform)]


def get_site(request: Request, platform: PlatformDep) -> Tenant:
    resolver: TenantResolver = request.app.state.tenant_resolver
    tenant, _ = resolver.resolve(request.headers.get("host", ""))
    if tenant is None:
        raise NotFound("no shop is served at this address")
    request.state.web_tenant = tenant
    return tenant


SiteDep = Annotated[Tenant, Depends(get_site)]


def customer_context(request: Request, platform: Platform, tenant: Tenant, customer_id: str | None = None) -> Context:
    return request_context(request, platform, tenant.id, Actor(ActorKind.CUSTOMER, customer_id))


@dataclass(frozen=True)
class StaffSession:
    tenant: Tenant
    auth: Authenticated
    csrf: str
    ctx: Context

    @property
    def is_manager(self) -> bool:
        return self.auth.actor.role in (Role.OWNER, Role.MANAGER)

    @property
    def is_owner(self) -> bool:
        return self.auth.actor.role is Role.OWNER


def get_staff(request: Request, platform: PlatformDep, tenant: SiteDep) -> StaffSession:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired()
    try:
        auth = authenticate(platform.directory, platform.uow, secret, platform.clock.now())
    except Unauthenticated as exc:
        raise LoginRequired() from exc
    # A session belongs to one tenant: on another tenant's address it is no session at all.
    if auth.token.kind != "session" or auth.tenant_id != tenant.id:
        raise LoginRequired()
    ctx = request_context(request, platform, tenant.id, auth.actor)
    return StaffSession(tenant, auth, request.cookies.get(CSRF_COOKIE, ""), ctx)


StaffSessionDep = Annotated[StaffSession, Depends(get_staff)]


def require_csrf(session: StaffSession, presented: str | None) -> None:
    if not check_csrf(session.auth.token, presented):
        raise PermissionDenied("missing or wrong CSRF token for this session")


def require_manager(session: StaffSession) -> None:
    if not session.is_manager:
        raise PermissionDenied("this needs the owner or manager role")


def set_session_cookies(response: Response, secret: str, csrf: str, *, secure: bool) -> None:
    for name, value in ((SESSION_COOKIE, secret), (CSRF_COOKIE, csrf)):
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/",
        )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
