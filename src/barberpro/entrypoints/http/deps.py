"""Request-scoped dependencies: platform, tenant, actor, context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from barberpro.application.context import Context
from barberpro.application.manage_tokens import verify_manage_token
from barberpro.application.staff_auth import Authenticated, authenticate, check_csrf
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from barberpro.domain.errors import NotFound, PermissionDenied, Unauthenticated
from barberpro.domain.tenancy import Tenant
from barberpro.entrypoints.http.tenancy import TenantResolver
from barberpro.ops.gateway.credentials import VerifiedCredentials

SESSION_COOKIE = "bp_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


@dataclass(frozen=True)
class Caller:
    tenant: Tenant
    staff: Authenticated | None


def _credential(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise Unauthenticated("use an Authorization: Bearer token")
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


async def get_caller(request: Request, platform: Annotated[Platform, Depends(get_platform)]) -> Caller:
    # Async, so that a public read costs no thread hop here: the host's tenant is nearly always
    # cached; the database is touched (in the thread pool) only on a cache miss or for credentials.
    resolver: TenantResolver = request.app.state.tenant_resolver
    host = request.headers.get("host", "")
    resolved = resolver.peek(host)
    if resolved is None:
        resolved = await run_in_threadpool(resolver.resolve, host)
    host_tenant, explicit = resolved
    secret, from_cookie = _credential(request)
    if secret is None:
        if host_tenant is None:
            raise NotFound("no shop is served at this address")
        return Caller(host_tenant, None)
    caller = await run_in_threadpool(_staff_caller, request, platform, host_tenant, explicit, secret, from_cookie)
    verified: VerifiedCredentials | None = getattr(request.app.state, "verified_credentials", None)
    if verified is not None:  # the load shedder ranks this credential as staff from now on
        verified.add(secret.encode("latin-1"))
    return caller


def _staff_caller(
    request: Request, platform: Platform, host_tenant: Tenant | None, explicit: bool, secret: str, from_cookie: bool
) -> Caller:
    staff = authenticate(platform.directory, platform.uow, secret, platform.clock.now())
    if (
        from_cookie
        and request.method not in _SAFE_METHODS
        and not check_csrf(staff.token, request.headers.get("x-csrf-token"))
    ):
        raise PermissionDenied("missing or wrong X-CSRF-Token for this session")
    if explicit and host_tenant is not None and host_tenant.id != staff.tenant_id:
        raise Unauthenticated("this token belongs to another tenant")
    tenant = host_tenant if host_tenant is not None and host_tenant.id == staff.tenant_id else None
    if tenant is None:
        tenant = platform.directory.tenant(staff.tenant_id)
        if tenant is None:
            raise Unauthenticated("tenant no longer exists")
    return Caller(tenant, staff)


CallerDep = Annotated[Caller, Depends(get_caller)]
PlatformDep = Annotated[Platform, Depends(get_platform)]


def request_context(request: Request, platform: Platform, tenant_id: str, actor: Actor) -> Context:
    """The one place an HTTP request (API or web page) becomes a use case's Context."""
    return Context(
        tenant_id=tenant_id,
        actor=actor,
        request_id=getattr(request.state, "request_id", "-"),
        now=platform.clock.now(),
    )


def context(request: Request, platform: Platform, caller: Caller, actor: Actor | None = None) -> Context:
    chosen = actor or (caller.staff.actor if caller.staff else Actor(ActorKind.CUSTOMER, None))
    return request_context(request, platform, caller.tenant.id, chosen)


async def require_staff(caller: CallerDep) -> Authenticated:
    if caller.staff is None:
        raise Unauthenticated("staff credentials required")
    return caller.staff


StaffDep = Annotated[Authenticated, Depends(require_staff)]


async def require_manager(staff: StaffDep) -> Authenticated:
    if staff.actor.role not in (Role.OWNER, Role.MANAGER):
        raise PermissionDenied("this needs the owner or manager role")
    return staff


def customer_actor(
    platform: Platform, caller: Caller, booking_id: str, token: str | None, customer_id: str | None
) -> Actor:
    """The actor for a booking request: staff if authenticated, else the manage-token holder."""
    if caller.staff is not None:
        return caller.staff.actor
    if not token or not verify_manage_token(platform.secret, caller.tenant.id, booking_id, token):
        # Same answer as a missing booking: a wrong token reveals nothing.
        raise NotFound("booking not found", field="booking_id")
    return Actor(ActorKind.CUSTOMER, customer_id)


ManageToken = Annotated[str | None, Header(alias="X-Manage-Token", description="The booking's manage token")]
