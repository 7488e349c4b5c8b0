"""What every use case is told about the call: who, for which tenant, when, under which request id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from barberpro.domain.booking import Actor


@dataclass(frozen=True)
class Context:
    tenant_id: str
    actor: Actor
    request_id: str
    now: datetime
