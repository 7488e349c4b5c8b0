"""How an audit row becomes a Merkle leaf, and how its personal data is redacted (Ley 25.326).

A leaf never covers personal values themselves, only a commitment (a hash) to each of them.
Redaction swaps a value for its commitment in the database, so the recomputed leaf, and
with it every signed tree head, stays the same: the personal data goes, the proof stays.

Leaf format 2 (rows written since migration 0007) salts each row's commitments with 128
random bits kept in the row until redaction erases them with the values. Format 1 hashed
the value with the entry's public id only, so a redacted phone number, DNI or name could
be found again by hashing every candidate (10^8 Buenos Aires mobile numbers take minutes);
without the salt there is nothing to test a guess against. Format 1 rows keep their
commitments, so the heads signed over them still verify.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from barberpro.ops.audit.merkle import leaf_hash

LEAF_VERSION = 2  # the newest format this module reads; new rows are written in it
UNSALTED_LEAF_VERSION = 1
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
    leaf_version: int = UNSALTED_LEAF_VERSION
    field_salt: str | None = None  # format 2 until redaction; never exported

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


def commitment(entry_id: str, path: str, value: Any, salt: str | None = None) -> str:
    """Binds a personal value to its entry and place, so equal values in other rows differ.

    With `salt` (format 2) it also binds the row's secret salt, without which no guess can be checked.
    """
    if salt is None:
        material = b"\x00".join((b"barberpro-audit-field", entry_id.encode(), path.encode(), canonical(value)))
    else:
        material = b"\x00".join(
            (b"barberpro-audit-field-2", salt.encode(), entry_id.encode(), path.encode(), canonical(value))
        )
    return hashlib.sha256(material).hexdigest()


def _row_salt(row: AuditRow) -> str | None:
    """The salt a row's commitments take: none in format 1. A row of another format whose salt
    is gone while a personal value is still in clear commits it with an empty salt, which
    matches nothing signed (nor does a format number that was tampered with, as the leaf
    covers it): verification names the row as changed instead of failing."""
    if row.leaf_version == UNSALTED_LEAF_VERSION:
        return None
    return row.field_salt or ""


def is_redacted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REDACTED_KEY}


def personal_keys(entity_type: str) -> frozenset[str]:
    return PERSONAL_FIELDS.get(entity_type, frozenset()) | ALWAYS_PERSONAL


def _committed(row: AuditRow, side: str, snapshot: dict[str, Any] | None, keys: frozenset[str]) -> Any:
    if snapshot is None:
        return None
    out: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key in keys:
            digest = (
                value[REDACTED_KEY]
                if is_redacted(value)
                else commitment(row.id, f"{side}.{key}", value, _row_salt(row))
            )
            out[key] = {REDACTED_KEY: digest}
        else:
            out[key] = value
    return out


def leaf_data(row: AuditRow) -> bytes:
    """The canonical bytes a leaf hashes: the row with personal values replaced by commitments."""
    keys = personal_keys(row.entity_type)
    body = row.as_dict()
    body["v"] = row.leaf_version
    body["before"] = _committed(row, "before", row.before, keys)
    body["after"] = _committed(row, "after", row.after, keys)
    return canonical(body)


def row_leaf(row: AuditRow) -> bytes:
    return leaf_hash(leaf_data(row))


def redacted(row: AuditRow) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The before/after snapshots with personal values replaced by their commitments."""
    keys = personal_keys(row.entity_type)
    return (
        _committed(row, "before", row.before, keys),
        _committed(row, "after", row.after, keys),
    )
