"""Changing staff users after creation: their role, and deactivating or reactivating them (owners only).

The tenant always keeps one active owner, and deactivating someone revokes their API tokens and web
sessions in the same transaction (authentication also refuses inactive users, so nothing outlives it).
"""

from __future__ import annotations

from dataclasses import replace

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.permissions import require_role
from barberpro.application.ports import StaffUser, UnitOfWork
from barberpro.domain.booking import Role
from barberpro.domain.errors import NotFound, PolicyViolation

OWNERS = frozenset({Role.OWNER})
# Every change that could remove an active owner takes this lock before reading the staff: two
# owners demoting or deactivating each other at once must not both see the other still active.
# Logging in takes it too: it rewrites the user's row, and must not write back a user as active
# after a deactivation committed between its read and its write.
STAFF_LOCK = ("staff_users", "rows")


def _user(uow: UnitOfWork, user_id: str) -> StaffUser:
    user = uow.staff.get(user_id)
    if user is None:
        raise NotFound("staff user not found", field="user_id")
    return user


def _keep_an_owner(uow: UnitOfWork, user: StaffUser) -> None:
    others = [u for u in uow.staff.list() if u.role is Role.OWNER and u.active and u.id != user.id]
    if user.role is Role.OWNER and user.active and not others:
        raise PolicyViolation("the last active owner cannot be demoted or deactivated")


def change_staff_role(uow: UnitOfWork, ctx: Context, user_id: str, *, role: Role) -> StaffUser:
    require_role(ctx, OWNERS)
    with uow:
        uow.lock(*STAFF_LOCK)
        user = _user(uow, user_id)
        if user.role is role:
            return user
        if role is not Role.OWNER:
            _keep_an_owner(uow, user)
        changed = replace(user, role=role)
        uow.staff.update(changed)
        record(uow, ctx, action="StaffRoleChanged", entity_type="staff_user", entity_id=user.id, before=user,
               after=changed)  # fmt: skip
        uow.commit()
        return changed


def set_staff_active(uow: UnitOfWork, ctx: Context, user_id: str, *, active: bool) -> StaffUser:
    require_role(ctx, OWNERS)
    with uow:
        uow.lock(*STAFF_LOCK)
        user = _user(uow, user_id)
        if user.active is active:
            return user
        if not active:
            _keep_an_owner(uow, user)
            for token in uow.tokens.unrevoked_for_user(user.id):
                uow.tokens.update(replace(token, revoked_at=ctx.now))
        changed = replace(user, active=active)
        uow.staff.update(changed)
        record(uow, ctx, action="StaffUserReactivated" if active else "StaffUserDeactivated",
               entity_type="staff_user", entity_id=user.id, before=user, after=changed)  # fmt: skip
        uow.commit()
        return changed
