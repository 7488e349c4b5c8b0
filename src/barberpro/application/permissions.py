"""Who may run which staff use case."""

from __future__ import annotations

from barberpro.application.context import Context
from barberpro.domain.booking import ActorKind, Role
from barberpro.domain.errors import PermissionDenied

MANAGERS = frozenset({Role.OWNER, Role.MANAGER})


def require_role(ctx: Context, allowed: frozenset[Role] = MANAGERS) -> None:
    if ctx.actor.kind is ActorKind.SYSTEM:
        return
    if ctx.actor.kind is not ActorKind.STAFF or ctx.actor.role not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise PermissionDenied(f"this needs one of the roles: {roles}")


def require_staff(ctx: Context) -> None:
    require_role(ctx, frozenset(Role))
