"""The audit trail as a Merkle log: publish signed heads, verify, prove, export, redact.

This is the explicit cross-tenant path the architecture asks for: it reads audit_log for
every tenant (ordered by the global `seq`), never through the tenant-scoped repositories.
Leaves are computed here, by the publisher, not in the booking transaction, so appending
an audit row costs the use case nothing beyond the INSERT it already does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select, text, update

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.engine import Database
from barberpro.ops.audit import merkle
from barberpro.ops.audit.entries import AuditRow, redacted, row_leaf
from barberpro.ops.audit.heads import HeadStore, PublishedLeaf, SignedTreeHead, TreeHead


def _row(r: Any) -> AuditRow:
    return AuditRow(
        r.seq,
        r.id,
        r.tenant_id,
        r.actor,
        r.action,
        r.entity_type,
        r.entity_id,
        r.before,
        r.after,
        r.request_id,
        r.occurred_at,
        r.leaf_version,
        r.field_salt,
    )


def read_rows(
    connection: Connection, *, after_seq: int = 0, up_to_seq: int | None = None, tenant_id: str | None = None
) -> Iterator[AuditRow]:
    query = select(t.audit_log).where(t.audit_log.c.seq > after_seq)
    if up_to_seq is not None:
        query = query.where(t.audit_log.c.seq <= up_to_seq)
    if tenant_id is not None:
        query = query.where(t.audit_log.c.tenant_id == tenant_id)
    for r in connection.execute(query.order_by(t.audit_log.c.seq)):
        yield _row(r)


def _settled_max_seq(database: Database) -> int:
    """The highest seq below which no transaction can still add a row.

    On PostgreSQL a sequence value is taken at INSERT but becomes visible at COMMIT, so a
    lower seq may appear after a higher one. SHARE mode waits for every open writer of
    audit_log and holds new ones for the moment it takes to read max(seq). SQLite
    serialises writers, so its max(seq) is settled already.
    """
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
        value = connection.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_log")).scalar_one()
    return int(value)


def publish(
    database: Database, store: HeadStore, key: Ed25519PrivateKey, now: datetime | None = None
) -> SignedTreeHead:
    """Append the leaves of rows written since the last head, then sign and publish a new head."""
    published = store.leaves()
    last_seq = published[-1].seq if published else 0
    settled = _settled_max_seq(database)
    with database.engine.connect() as connection:
        fresh = [
            PublishedLeaf(r.seq, r.id, row_leaf(r))
            for r in read_rows(connection, after_seq=last_seq, up_to_seq=settled)
        ]
    if fresh:
        store.append_leaves(fresh)
    leaves = [p.leaf for p in published] + [p.leaf for p in fresh]
    head = TreeHead(
        tree_size=len(leaves),
        root_hash=merkle.root(leaves).hex(),
        timestamp=(now or datetime.now(UTC)).isoformat(),
        last_seq=fresh[-1].seq if fresh else last_seq,
    )
    signed = SignedTreeHead.sign(head, key)
    store.publish(signed)
    return signed


@dataclass
class Finding:
    kind: str  # changed | removed | reordered | inserted | truncated | bad-signature | ...
    message: str
    seq: int | None = None
    entry_id: str | None = None


@dataclass
class VerifyReport:
    heads_checked: int = 0
    entries_checked: int = 0
    unsigned_tail: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "heads_checked": self.heads_checked,
            "entries_checked": self.entries_checked,
            "unsigned_tail": self.unsigned_tail,
            "findings": [f.__dict__ for f in self.findings],
        }


def _first_difference(
    rows: list[AuditRow], leaves: list[bytes], published: list[PublishedLeaf], size: int
) -> Finding | None:
    """Name the first published entry the database no longer reproduces, and how."""
    by_id = {r.id: i for i, r in enumerate(rows)}
    published_ids = {p.entry_id for p in published[:size]}
    for i in range(size):
        expected = published[i]
        if i >= len(rows):
            return Finding(
                "truncated",
                f"entries from seq {expected.seq} on were removed ({size - i} signed entries missing)",
                expected.seq,
                expected.entry_id,
            )
        row = rows[i]
        if leaves[i] == expected.leaf and row.seq == expected.seq:
            continue
        if row.id == expected.entry_id and row.seq == expected.seq:
            return Finding(
                "changed",
                f"entry seq {row.seq} ({row.action} {row.entity_type} {row.entity_id}) was changed",
                row.seq,
                row.id,
            )
        if expected.entry_id not in by_id:
            return Finding(
                "removed",
                f"entry seq {expected.seq} (id {expected.entry_id}) was removed",
                expected.seq,
                expected.entry_id,
            )
        if row.id not in published_ids:
            return Finding(
                "inserted", f"entry seq {row.seq} (id {row.id}) was inserted into the signed range", row.seq, row.id
            )
        return Finding(
            "reordered",
            f"entry id {expected.entry_id} (signed at position {i}, seq "
            f"{expected.seq}) was moved to position {by_id[expected.entry_id]}",
            expected.seq,
            expected.entry_id,
        )
    return None


def verify(database: Database, store: HeadStore, key: Ed25519PublicKey) -> VerifyReport:
    """Recompute the tree from the database and check it against every signed head."""
    report = VerifyReport()
    heads = store.heads()
    for signed in heads:
        if not signed.verify(key):
            report.findings.append(
                Finding(
                    "bad-signature",
                    f"tree head of size {signed.head.tree_size} has no valid signature from the configured key",
                )
            )
    heads = [h for h in heads if h.verify(key)]
    report.heads_checked = len(heads)
    with database.engine.connect() as connection:
        rows = list(read_rows(connection))
    leaves = [row_leaf(r) for r in rows]
    report.entries_checked = len(rows)
    if not heads:
        report.findings.append(Finding("no-head", "no signed tree head has been published yet"))
        return report
    latest = heads[-1].head
    report.unsigned_tail = max(0, len(rows) - latest.tree_size)
    published = store.leaves()
    log_trusted = len(published) >= latest.tree_size and all(
        merkle.root([p.leaf for p in published[: h.head.tree_size]]).hex() == h.head.root_hash for h in heads
    )
    if not log_trusted:
        report.findings.append(Finding("leaf-log", "the published leaf log does not match the signed heads"))
    elif (found := _first_difference(rows, leaves, published, latest.tree_size)) is not None:
        report.findings.append(found)
        return report
    # Whatever the leaf log says, the signed roots decide: the recomputed tree must
    # reproduce each head and be consistent with the one before it.
    previous: TreeHead | None = None
    for signed in heads:
        head = signed.head
        if head.tree_size > len(leaves):
            report.findings.append(
                Finding("truncated", f"signed head covers {head.tree_size} entries, the database has {len(leaves)}")
            )
            break
        if merkle.root(leaves[: head.tree_size]).hex() != head.root_hash:
            start = previous.tree_size if previous else 0
            report.findings.append(
                Finding(
                    "changed",
                    f"the database no longer reproduces the head of size {head.tree_size}: "
                    f"the first altered entry is among positions {start}..{head.tree_size - 1}",
                    rows[start].seq if start < len(rows) else None,
                )
            )
            break
        if previous is not None and previous.tree_size > 0:
            proof = merkle.consistency_proof(previous.tree_size, leaves[: head.tree_size])
            if not merkle.verify_consistency(
                previous.tree_size,
                head.tree_size,
                bytes.fromhex(previous.root_hash),
                bytes.fromhex(head.root_hash),
                proof,
            ):
                report.findings.append(
                    Finding("inconsistent", f"heads {previous.tree_size} and {head.tree_size} are not consistent")
                )
                break
        previous = head
    return report


def inclusion(database: Database, store: HeadStore, entry_id: str) -> dict[str, Any]:
    """An inclusion proof of one entry in the latest signed head."""
    heads = store.heads()
    if not heads:
        raise LookupError("no signed tree head yet")
    head = heads[-1].head
    with database.engine.connect() as connection:
        rows = list(read_rows(connection, up_to_seq=head.last_seq))
    leaves = [row_leaf(r) for r in rows[: head.tree_size]]
    index = next((i for i, r in enumerate(rows[: head.tree_size]) if r.id == entry_id), None)
    if index is None:
        raise LookupError(f"entry {entry_id} is not covered by the latest signed head")
    proof = merkle.inclusion_proof(index, leaves)
    return {
        "entry_id": entry_id,
        "leaf_index": index,
        "leaf_hash": leaves[index].hex(),
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "proof": [p.hex() for p in proof],
        "valid": merkle.verify_inclusion(index, head.tree_size, leaves[index], proof, bytes.fromhex(head.root_hash)),
    }


# The row's fields in order, less the leaf format and the salt, which stay in the database.
EXPORT_FIELDS = tuple(name for name in AuditRow.__dataclass_fields__ if name not in ("leaf_version", "field_salt"))


def export(database: Database, tenant_id: str, fmt: str = "json") -> str:
    """One tenant's trail, for an AFIP or customer request (redacted values stay redacted; the
    rows' salts stay in the database)."""
    with database.engine.connect() as connection:
        rows = [r.as_dict() for r in read_rows(connection, tenant_id=tenant_id)]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if fmt != "csv":
        raise ValueError("format must be json or csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for k, v in row.items()})
    return out.getvalue()


def redact(database: Database, *, before: datetime | None = None, entity_id: str | None = None) -> int:
    """Replace personal values by their commitments (retention or a data subject's request).

    A row's salt goes with its values: what is left commits to them but cannot confirm a guess.
    """
    if before is None and entity_id is None:
        raise ValueError("name a cut-off date or an entity")
    query = select(t.audit_log)
    if before is not None:
        query = query.where(t.audit_log.c.occurred_at < before)
    if entity_id is not None:
        query = query.where(t.audit_log.c.entity_id == entity_id)
    changed = 0
    with database.engine.begin() as connection:
        for r in connection.execute(query).all():
            row = _row(r)
            new_before, new_after = redacted(row)
            if (new_before, new_after) != (row.before, row.after):
                connection.execute(
                    update(t.audit_log)
                    .where(t.audit_log.c.seq == row.seq)
                    .values(before=new_before, after=new_after, field_salt=None)
                )
                changed += 1
    return changed
