"""audit rows commit personal values with a per-row random salt (leaf format 2)

Existing rows keep format 1 (server default) and their unsalted commitments, so every
published tree head still verifies; rows written from now on get format 2 and a salt
(the table's insert defaults, `adapters/db/tables.py`).

Revision ID: 0007_audit_field_salts
Revises: 0006_privacy_consents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_field_salts"
down_revision = "0006_privacy_consents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_version", sa.SmallInteger(), server_default=sa.text("1"), nullable=False))
        batch_op.add_column(sa.Column("field_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Rows written in format 2 would then be read as format 1 and no longer verify.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("field_salt")
        batch_op.drop_column("leaf_version")
