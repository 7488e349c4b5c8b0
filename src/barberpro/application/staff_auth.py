"""Staff accounts: users with roles, log-in with lock-out, API tokens and web sessions.

Tokens are random, shown once and stored as SHA-256 digests (they carry 256 bits of
entropy, so a slow hash adds nothing); passwords are Argon2id through the hasher port.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.permissions import require_role
from barberpro.application.ports import (
    ApiToken,
    PasswordHasher,
    PlatformDirectory,
    StaffUser,
    UnitOfWork,
    UnitOfWorkFactory,
)
from barberpro.application.staff_users import STAFF_LOCK
from barberpro.domain.booking import Actor, ActorKind, Role
from barberpro.domain.customers import normalise_email
from barberpro.domain.errors import AccountLocked, InvalidValue, NotFound, Unauthenticated
from barberpro.domain.identifiers import new_id
from barberpro.domain.tenancy import validate_name

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "bp_"  # noqa: S105 - not a secret; lets secret scanners recognise leaked tokens


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _email(raw: str) -> str:
    try:
        return normalise_email(raw).lower()
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, field="email") from exc


def create_staff_user(
    uow: UnitOfWork,
    ctx: Context,
    hasher: PasswordHasher,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    barber_id: str | None = None,
) -> StaffUser:
    require_role(ctx, frozenset({Role.OWNER}))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")
    with uow:
        address = _email(email)
        if uow.staff.by_email(address) is not None:
            raise InvalidValue("a staff user with this e-mail already exists", field="email")
        if barber_id is not None and uow.barbers.get(barber_id) is None:
            raise NotFound("barber not found", field="barber_id")
        user = StaffUser(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            email=address,
            name=validate_name(name),
            role=role,
            password_hash=hasher.hash(password),
            barber_id=barber_id,
        )
        uow.staff.add(user)
        record(uow, ctx, action="StaffUserCreated", entity_type="staff_user", entity_id=user.id, after=user)
        uow.commit()
        return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once
    csrf: str | None = None  # sessions only


_DUMMY_HASH: dict[int, str] = {}


def login(
    uow: UnitOfWork,
    ctx: Context,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    kind: str = "api",
    token_name: str = "",
) -> IssuedToken:
    """Check a password and issue a bearer token ("api") or a web session ("session")."""
    with uow:
        uow.lock(*STAFF_LOCK)
        user = uow.staff.by_email(email.strip().lower())
        if user is None or not user.active:
            # Spend the same time as a real check, so timing does not reveal which e-mails exist.
            if id(hasher) not in _DUMMY_HASH:
                _DUMMY_HASH[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
            hasher.verify(_DUMMY_HASH[id(hasher)], password)
            raise Unauthenticated("wrong e-mail or password")
        if user.locked_until is not None and user.locked_until > ctx.now:
            minutes = max(1, int((user.locked_until - ctx.now).total_seconds() // 60) + 1)
            raise AccountLocked(f"too many failed attempts; try again in {minutes} minutes")
        actor_ctx = replace(ctx, actor=Actor(ActorKind.STAFF, user.id, user.role, user.barber_id))
        if not hasher.verify(user.password_hash, password):
            failures = user.failed_logins + 1
            locked = ctx.now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
            updated = replace(user, failed_logins=0 if locked else failures, locked_until=locked)
            uow.staff.update(updated)
            record(
                uow,
                actor_ctx,
                action="StaffLoginFailed" if not locked else "StaffAccountLocked",
                entity_type="staff_user",
                entity_id=user.id,
            )
            uow.commit()
            if locked:
                raise AccountLocked(
                    f"too many failed attempts; try again in {int(LOCKOUT.total_seconds() // 60)} minutes"
                )
            raise Unauthenticated("wrong e-mail or password")
        refreshed = replace(user, failed_logins=0, locked_until=None)
        if hasher.needs_rehash(user.password_hash):
            refreshed = replace(refreshed, password_hash=hasher.hash(password))
        if refreshed != user:
            uow.staff.update(refreshed)
        issued = _issue(uow, actor_ctx, user, kind, token_name)
        uow.commit()
        return issued


def _issue(uow: UnitOfWork, ctx: Context, user: StaffUser, kind: str, name: str) -> IssuedToken:
    if kind not in ("api", "session"):
        raise InvalidValue("kind must be api or session", field="kind")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    token = ApiToken(
        id=new_id(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        name=name.strip()[:100] or kind,
        token_hash=digest(secret),
        created_at=ctx.now,
        kind=kind,
        expires_at=ctx.now + SESSION_LIFETIME if kind == "session" else None,
        csrf_hash=digest(csrf) if csrf else None,
    )
    uow.tokens.add(token)
    record(
        uow,
        ctx,
        action="StaffLoggedIn" if kind == "session" else "ApiTokenIssued",
        entity_type="api_token",
        entity_id=token.id,
        after=token,
    )
    return IssuedToken(token, secret, csrf)


@dataclass(frozen=True)
class Authenticated:
    tenant_id: str
    actor: Actor
    token: ApiToken


def authenticate(directory: PlatformDirectory, uow_for: UnitOfWorkFactory, secret: str, now: datetime) -> Authenticated:
    """Resolve a bearer token or session cookie to its tenant and staff actor."""
    if not secret.startswith(TOKEN_PREFIX):
        raise Unauthenticated("invalid token")
    token = directory.token_by_hash(digest(secret))
    if token is None or not hmac.compare_digest(token.token_hash, digest(secret)):
        raise Unauthenticated("invalid token")
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise Unauthenticated("token revoked or expired")
    with uow_for(token.tenant_id, write=False) as uow:
        user = uow.staff.get(token.user_id)
    if user is None or not user.active:
        raise Unauthenticated("user no longer active")
    return Authenticated(token.tenant_id, Actor(ActorKind.STAFF, user.id, user.role, user.barber_id), token)


def check_csrf(token: ApiToken, presented: str | None) -> bool:
    if token.csrf_hash is None:
        return True
    return presented is not None and hmac.compare_digest(token.csrf_hash, digest(presented))


def revoke_token(uow: UnitOfWork, ctx: Context, token_id: str) -> ApiToken:
    """A user revokes their own tokens; an owner any token of the tenant."""
    with uow:
        token = uow.tokens.get(token_id)
        if token is None or (token.user_id != ctx.actor.id and ctx.actor.role is not Role.OWNER):
            raise NotFound("token not found", field="token_id")
        if token.revoked_at is not None:
            return token
        revoked = replace(token, revoked_at=ctx.now)
        uow.tokens.update(revoked)
        record(
            uow,
            ctx,
            action="ApiTokenRevoked",
            entity_type="api_token",
            entity_id=token_id,
            before=token,
            after=revoked,
        )
        uow.commit()
        return revoked
