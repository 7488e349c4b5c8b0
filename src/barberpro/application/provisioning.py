"""Tenant provisioning: the audited path that creates a brand and its first owner."""

from __future__ import annotations

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.ports import PasswordHasher, StaffUser, UnitOfWork
from barberpro.domain.booking import Role
from barberpro.domain.errors import InvalidValue
from barberpro.domain.identifiers import new_id
from barberpro.domain.tenancy import Tenant, validate_name, validate_slug, validate_theme


def provision_tenant(
    uow: UnitOfWork,
    ctx: Context,
    hasher: PasswordHasher,
    *,
    slug: str,
    name: str,
    domains: tuple[str, ...] = (),
    theme: dict[str, str] | None = None,
    owner_email: str,
    owner_name: str,
    owner_password: str,
) -> tuple[Tenant, StaffUser]:
    """Create the tenant the unit of work is scoped to (`uow.tenant_id`), with its owner."""
    if len(owner_password) < 10:
        raise InvalidValue("password must have at least 10 characters", field="owner_password")
    tenant = Tenant(
        id=uow.tenant_id,
        slug=validate_slug(slug),
        name=validate_name(name),
        domains=tuple(d.lower() for d in domains),
        theme=validate_theme(theme or {}),
    )
    owner = StaffUser(
        id=new_id(),
        tenant_id=tenant.id,
        email=owner_email.strip().lower(),
        name=validate_name(owner_name),
        role=Role.OWNER,
        password_hash=hasher.hash(owner_password),
    )
    with uow:
        uow.tenant.add(tenant, ctx.now)
        uow.staff.add(owner)
        record(uow, ctx, action="TenantProvisioned", entity_type="tenant", entity_id=tenant.id, after=tenant)
        record(uow, ctx, action="StaffUserCreated", entity_type="staff_user", entity_id=owner.id, after=owner)
        uow.commit()
    return tenant, owner
