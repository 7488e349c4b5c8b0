"""How an audit row becomes a Merkle leaf, and how its personal data is redacted (Ley 25.326).

A leaf never covers personal values themselves, only a commitment (a hash) to each of them.
Redaction swaps a value for its commitment in the database, so the recomputed leaf, and
with it every signed tree head, stays the same: the personal data goes, the proof stays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from barberpro.ops.audit.merkle import leaf_hash

LEAF_VERSION = 1
REDACTED_KEY = "$redacted"

# Personal data (Ley 25.326 art. 2) that snapshots may carry, by entity type; the
# keys in ALWAYS_PERSONAL are personal wherever they appear.
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"name", "phone", "email", "dni"}),
    "staff_user": frozenset({"name", "email"}),
    "booking": frozenset({"notes"}),
    "review": frozenset({"text"}),
}
ALWAYS_PERSONAL = frozenset({"phone", "email", "dni", "customer_name", "customer_phone", "customer_email"})


@dataclass(frozen=True)
class AuditRow:
    """One row of audit_log, as read from the database."""

    seq: int
    id: str
    tenant_id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    occurred_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "tenant_id": self.tenant_id,
            "actor": self.actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "request_id": self.request_id,
            "occurred_at": _iso(self.occurred_at),
        }


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive UTC in some paths
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def commitment(entry_id: str, path: str, value: Any) -> str:
    """Binds a personal value to its entry and place, so equal values in other rows differ."""
    material = b"\x00".join((b"barberpro-audit-field", entry_id.encode(), path.encode(), canonical(value)))
    return hashlib.sha256(material).hexdigest()


def is_redacted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REDACTED_KEY}


def personal_keys(entity_type: str) -> frozenset[str]:
    return PERSONAL_FIELDS.get(entity_type, frozenset()) | ALWAYS_PERSONAL


def _committed(entry_id: str, side: str, snapshot: dict[str, Any] | None, keys: frozenset[str]) -> Any:
    if snapshot is None:
        return None
    out: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key in keys:
            digest = value[REDACTED_KEY] if is_redacted(value) else commitment(entry_id, f"{side}.{key}", value)
            out[key] = {REDACTED_KEY: digest}
        else:
            out[key] = value
    return out


def leaf_data(row: AuditRow) -> bytes:
    """The canonical bytes a leaf hashes: the row with personal values replaced by commitments."""
    keys = personal_keys(row.entity_type)
    body = row.as_dict()
    body["v"] = LEAF_VERSION
    body["before"] = _committed(row.id, "before", row.before, keys)
    body["after"] = _committed(row.id, "after", row.after, keys)
    return canonical(body)


def row_leaf(row: AuditRow) -> bytes:
    return leaf_hash(leaf_data(row))


def redacted(row: AuditRow) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The before/after snapshots with personal values replaced by their commitments."""
    keys = personal_keys(row.entity_type)
    return (
        _committed(row.id, "before", row.before, keys),
        _committed(row.id, "after", row.after, keys),
    )
