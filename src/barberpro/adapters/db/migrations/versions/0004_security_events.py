"""security events (API gateway)

Revision ID: 0004_security_events
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_security_events"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "barberpro_app"


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_security_events")),
    )
    op.create_index(op.f("ix_security_events_tenant_id"), "security_events", ["tenant_id"])
    op.create_index(op.f("ix_security_events_occurred_at"), "security_events", ["occurred_at"])
    if op.get_bind().dialect.name == "postgresql":
        # The gateway writes through the platform path; a tenant-role session sees only its rows.
        op.execute(
            f"""DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT SELECT, INSERT ON security_events TO {APP_ROLE};
                    GRANT USAGE, SELECT ON SEQUENCE security_events_seq_seq TO {APP_ROLE};
                END IF;
            END $$"""
        )
        op.execute("ALTER TABLE security_events ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON security_events TO {APP_ROLE} "
            "USING (tenant_id = current_setting('barberpro.tenant_id', true)) "
            "WITH CHECK (tenant_id = current_setting('barberpro.tenant_id', true))"
        )


def downgrade() -> None:
    op.drop_table("security_events")
