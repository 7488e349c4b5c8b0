"""The audit trail catches direct database tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from barberpro.bootstrap import Platform
from barberpro.ops.audit import trail
from barberpro.ops.audit.heads import HeadStore, PublishedLeaf, SignedTreeHead, TreeHead
from platform_fixtures import TenantFixture, make_tenant

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def store(platform: Platform, alpha: TenantFixture, tmp_path: Path) -> HeadStore:
    heads = HeadStore(tmp_path / "audit-heads")
    trail.publish(platform.database, heads, KEY)
    make_tenant(platform, "beta", barbers=2)
    trail.publish(platform.database, heads, KEY)
    return heads


def seqs(platform: Platform) -> list[int]:
    with platform.database.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT seq FROM audit_log ORDER BY seq"))]


def execute(platform: Platform, sql: str, **params: object) -> None:
    with platform.database.engine.begin() as connection:
        connection.execute(text(sql), params)


def only_finding(platform: Platform, store: HeadStore) -> trail.Finding:
    report = trail.verify(platform.database, store, KEY.public_key())
    assert not report.ok, report.as_dict()
    return report.findings[0]


def test_untouched_trail_verifies_with_consistent_heads(platform: Platform, store: HeadStore) -> None:
    report = trail.verify(platform.database, store, KEY.public_key())
    assert report.ok, report.as_dict()
    assert report.heads_checked == 2
    assert report.entries_checked == len(seqs(platform)) > 10


def test_edit_is_named(platform: Platform, store: HeadStore) -> None:
    target = seqs(platform)[5]
    execute(platform, "UPDATE audit_log SET actor = 'staff:someone-else' WHERE seq = :s", s=target)
    finding = only_finding(platform, store)
    assert (finding.kind, finding.seq) == ("changed", target)


def test_edit_inside_a_json_snapshot_is_named(platform: Platform, store: HeadStore) -> None:
    target = seqs(platform)[3]
    execute(platform, "UPDATE audit_log SET after = NULL WHERE seq = :s", s=target)
    assert only_finding(platform, store).seq == target


def test_delete_is_named(platform: Platform, store: HeadStore) -> None:
    target = seqs(platform)[7]
    execute(platform, "DELETE FROM audit_log WHERE seq = :s", s=target)
    finding = only_finding(platform, store)
    assert (finding.kind, finding.seq) == ("removed", target)


def test_reorder_is_named(platform: Platform, store: HeadStore) -> None:
    all_seqs = seqs(platform)
    a, b = all_seqs[2], all_seqs[9]
    # Swap the two rows' seq numbers (through a free value), as an attacker would.
    execute(platform, "UPDATE audit_log SET seq = -1 WHERE seq = :a", a=a)
    execute(platform, "UPDATE audit_log SET seq = :a WHERE seq = :b", a=a, b=b)
    execute(platform, "UPDATE audit_log SET seq = :b WHERE seq = -1", b=b)
    finding = only_finding(platform, store)
    assert finding.kind == "reordered"
    assert finding.seq == a


def test_truncation_is_named(platform: Platform, store: HeadStore) -> None:
    all_seqs = seqs(platform)
    execute(platform, "DELETE FROM audit_log WHERE seq >= :s", s=all_seqs[-4])
    finding = only_finding(platform, store)
    assert (finding.kind, finding.seq) == ("truncated", all_seqs[-4])


def test_rewriting_the_whole_chain_without_the_key_is_caught(
    platform: Platform, store: HeadStore, tmp_path: Path
) -> None:
    target = seqs(platform)[1]
    execute(platform, "UPDATE audit_log SET action = 'Nothing' WHERE seq = :s", s=target)
    # The attacker rebuilds the leaf log and re-signs every head with a key of their own.
    forger = Ed25519PrivateKey.generate()
    store.leaf_log.unlink()
    for path in store.heads_dir.glob("*.json"):
        path.unlink()
    trail.publish(platform.database, store, forger)
    report = trail.verify(platform.database, store, KEY.public_key())
    assert not report.ok
    assert report.findings[0].kind == "bad-signature"


def test_rewriting_the_leaf_log_alone_is_caught(platform: Platform, store: HeadStore) -> None:
    target_index = 4
    target = seqs(platform)[target_index]
    execute(platform, "UPDATE audit_log SET entity_id = 'x' WHERE seq = :s", s=target)
    with platform.database.engine.connect() as connection:
        rows = list(trail.read_rows(connection))
    store.leaf_log.unlink()
    store.append_leaves([PublishedLeaf(r.seq, r.id, trail.row_leaf(r)) for r in rows])
    report = trail.verify(platform.database, store, KEY.public_key())
    kinds = [f.kind for f in report.findings]
    assert kinds[0] == "leaf-log"
    assert "changed" in kinds
    assert report.findings[1].seq == seqs(platform)[0]  # the altered range starts at the first head


def test_a_forged_head_is_refused(platform: Platform, store: HeadStore) -> None:
    latest = store.heads()[-1]
    forged = SignedTreeHead(
        TreeHead(latest.head.tree_size, "00" * 32, latest.head.timestamp, latest.head.last_seq), latest.signature
    )
    store.publish(forged)
    assert only_finding(platform, store).kind == "bad-signature"


def test_redaction_keeps_verification_and_removes_personal_data(
    platform: Platform, store: HeadStore, alpha: TenantFixture
) -> None:
    changed = trail.redact(platform.database, before=datetime(2100, 1, 1, tzinfo=UTC))
    assert changed > 0
    exported = trail.export(platform.database, alpha.tenant_id, "json")
    assert alpha.owner_email not in exported
    assert "$redacted" in exported
    assert trail.verify(platform.database, store, KEY.public_key()).ok


def test_inclusion_proof_and_csv_export(platform: Platform, store: HeadStore, alpha: TenantFixture) -> None:
    with platform.database.engine.connect() as connection:
        entry = next(trail.read_rows(connection, tenant_id=alpha.tenant_id))
    proof = trail.inclusion(platform.database, store, entry.id)
    assert proof["valid"]
    csv_text = trail.export(platform.database, alpha.tenant_id, "csv")
    assert csv_text.splitlines()[0].startswith("seq,id,tenant_id")
    assert entry.id in csv_text


def test_unsigned_tail_is_reported_not_failed(platform: Platform, store: HeadStore) -> None:
    make_tenant(platform, "gamma", barbers=1)
    report = trail.verify(platform.database, store, KEY.public_key())
    assert report.ok and report.unsigned_tail > 0
