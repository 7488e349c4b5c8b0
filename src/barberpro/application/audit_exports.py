"""Exporting the audit trail (for AFIP or a customer's request) is itself recorded."""

from __future__ import annotations

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.permissions import require_role
from barberpro.application.ports import UnitOfWork


def record_trail_export(uow: UnitOfWork, ctx: Context, *, fmt: str) -> None:
    require_role(ctx)
    with uow:
        record(
            uow,
            ctx,
            action="AuditTrailExported",
            entity_type="tenant",
            entity_id=ctx.tenant_id,
            after={"format": fmt},
        )
        uow.commit()
