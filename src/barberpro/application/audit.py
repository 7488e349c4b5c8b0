"""The audit hook: every state change writes an audit entry and an outbox event in its transaction."""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from barberpro.application.context import Context
from barberpro.application.ports import AuditEntry, UnitOfWork
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id

_SECRET_FIELDS = frozenset(
    {"password_hash", "token_hash", "csrf_hash", "access_token", "webhook_secret", "refresh_token"}
)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(entity: Any) -> dict[str, Any] | None:
    """A JSON-safe picture of an entity for the audit trail, without secrets."""
    if entity is None:
        return None
    if dataclasses.is_dataclass(entity) and not isinstance(entity, type):
        data = {f.name: getattr(entity, f.name) for f in dataclasses.fields(entity)}
    else:
        data = dict(entity)
    return {k: _plain(v) for k, v in data.items() if k not in _SECRET_FIELDS}


def record(
    uow: UnitOfWork,
    ctx: Context,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    event: DomainEvent | None = None,
) -> None:
    uow.audit.add(
        AuditEntry(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            actor=ctx.actor.label,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=snapshot(before),
            after=snapshot(after),
            request_id=ctx.request_id,
            occurred_at=ctx.now,
        )
    )
    uow.outbox.add(
        event
        or DomainEvent(
            name=action,
            tenant_id=ctx.tenant_id,
            entity_id=entity_id,
            occurred_at=ctx.now,
            data={"entity_type": entity_type},
        )
    )
