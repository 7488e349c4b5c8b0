"""Redacted audit values cannot be found again by hashing guesses (leaf format 2), on SQLite and PostgreSQL.

Format 1 committed a personal value with the entry's public id only: anyone holding a
redacted row could hash every candidate phone number until one matched. Format 2 adds a
per-row random salt that redaction erases with the values.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.engine import open_database
from barberpro.adapters.db.migrate import upgrade
from barberpro.bootstrap import Platform
from barberpro.ops.audit import entries, trail
from barberpro.ops.audit.heads import HeadStore
from platform_fixtures import TenantFixture, insert_bare_tenant, make_tenant

KEY = Ed25519PrivateKey.generate()


def all_rows(platform: Platform) -> list[entries.AuditRow]:
    with platform.database.engine.connect() as connection:
        return list(trail.read_rows(connection))


def execute(platform: Platform, sql: str, **params: object) -> None:
    with platform.database.engine.begin() as connection:
        connection.execute(text(sql), params)


def owner_row(platform: Platform, alpha: TenantFixture) -> entries.AuditRow:
    """The audit row that carries the owner's e-mail address in clear."""
    return next(r for r in all_rows(platform) if r.after and r.after.get("email") == alpha.owner_email and r.field_salt)


def test_the_written_format_is_the_newest_this_code_reads() -> None:
    assert t.AUDIT_LEAF_VERSION == entries.LEAF_VERSION


def test_new_rows_get_their_own_salt(platform: Platform, alpha: TenantFixture) -> None:
    rows = all_rows(platform)
    assert rows and all(r.leaf_version == entries.LEAF_VERSION for r in rows)
    salts = [r.field_salt for r in rows]
    assert all(s is not None and re.fullmatch(r"[0-9a-f]{32}", s) for s in salts)
    assert len(set(salts)) == len(salts)


def test_redaction_erases_the_salt_so_a_guess_cannot_be_checked(
    platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    store = HeadStore(tmp_path / "heads")
    trail.publish(platform.database, store, KEY)
    row = owner_row(platform, alpha)
    salt, email = row.field_salt, alpha.owner_email

    assert trail.redact(platform.database, entity_id=row.entity_id) > 0

    after = next(r for r in all_rows(platform) if r.id == row.id)
    assert after.field_salt is None
    assert after.after is not None
    digest = after.after["email"][entries.REDACTED_KEY]
    # It is a commitment to the address (with the salt that is now gone) ...
    assert digest == entries.commitment(row.id, "after.email", email, salt)
    # ... but what is left in the database cannot confirm even the right guess.
    assert digest != entries.commitment(row.id, "after.email", email)
    assert digest != entries.commitment(row.id, "after.email", email, "")
    assert email not in str(after.before) + str(after.after)
    assert trail.verify(platform.database, store, KEY.public_key()).ok


@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_log SET field_salt = NULL WHERE seq = :s",  # a salt removed from a row still in clear
        "UPDATE audit_log SET leaf_version = 1 WHERE seq = :s",  # its format number changed
    ],
)
def test_tampering_with_the_salt_or_the_format_is_named(
    platform: Platform, alpha: TenantFixture, tmp_path: Path, tampering: str
) -> None:
    store = HeadStore(tmp_path / "heads")
    trail.publish(platform.database, store, KEY)
    row = owner_row(platform, alpha)
    execute(platform, tampering, s=row.seq)
    report = trail.verify(platform.database, store, KEY.public_key())
    assert [(f.kind, f.seq) for f in report.findings] == [("changed", row.seq)]


def test_unsalted_rows_and_salted_rows_verify_side_by_side(
    platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    # The rows written so far as the migration leaves older ones: format 1, no salt.
    execute(platform, "UPDATE audit_log SET leaf_version = 1, field_salt = NULL")
    store = HeadStore(tmp_path / "heads")
    trail.publish(platform.database, store, KEY)
    make_tenant(platform, "beta", barbers=1)  # format 2 rows after them
    trail.publish(platform.database, store, KEY)
    rows = all_rows(platform)
    assert {r.leaf_version for r in rows} == {1, 2}
    assert trail.verify(platform.database, store, KEY.public_key()).ok

    assert trail.redact(platform.database, before=datetime(2100, 1, 1, tzinfo=UTC)) > 0
    assert trail.verify(platform.database, store, KEY.public_key()).ok
    old = next(r for r in all_rows(platform) if r.after and isinstance(r.after.get("email"), dict))
    assert old.leaf_version == 1
    assert old.after is not None
    # Format 1 rows keep the commitment they were signed with.
    assert old.after["email"][entries.REDACTED_KEY] == entries.commitment(old.id, "after.email", alpha.owner_email)


def test_the_migration_keeps_existing_rows_in_format_1(database_url: str) -> None:
    database = open_database(database_url)
    try:
        upgrade(database, "0006_privacy_consents")
        now = datetime(2026, 1, 5, 12, tzinfo=UTC)
        with database.engine.begin() as connection:
            insert_bare_tenant(connection, "t1", now)
            connection.execute(
                text(
                    "INSERT INTO audit_log (id, tenant_id, actor, action, entity_type, entity_id, "
                    "before, after, request_id, occurred_at) VALUES ('e1', 't1', 'system', "
                    "'CustomerCreated', 'customer', 'c1', NULL, :after, 'r1', :now)"
                ),
                {"after": '{"phone": "+5491155551234"}', "now": now},
            )
        upgrade(database)
        with database.engine.connect() as connection:
            (row,) = list(trail.read_rows(connection))
            phone = {"phone": "+5491155551234"}
            assert (row.leaf_version, row.field_salt, row.after) == (1, None, phone)
            # Its leaf is computed exactly as before the migration (format 1, unsalted).
            assert entries.leaf_data(row) == entries.leaf_data(
                entries.AuditRow(
                    row.seq,
                    "e1",
                    "t1",
                    "system",
                    "CustomerCreated",
                    "customer",
                    "c1",
                    None,
                    phone,
                    "r1",
                    row.occurred_at,
                )
            )
            assert b'"v":1' in entries.leaf_data(row)
    finally:
        database.engine.dispose()


def test_exports_carry_no_salt(platform: Platform, alpha: TenantFixture) -> None:
    salts = [r.field_salt for r in all_rows(platform) if r.tenant_id == alpha.tenant_id]
    assert salts and all(salts)
    as_json = trail.export(platform.database, alpha.tenant_id, "json")
    as_csv = trail.export(platform.database, alpha.tenant_id, "csv")
    assert as_csv.splitlines()[0] == ",".join(trail.EXPORT_FIELDS)
    for salt in salts:
        assert salt not in as_json and salt not in as_csv
