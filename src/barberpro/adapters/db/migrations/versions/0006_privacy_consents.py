"""privacy consents (Ley 25.326: when and to which notice a customer consented)

Revision ID: 0006_privacy_consents
Revises: 0005_bookings_by_customer
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_privacy_consents"
down_revision = "0005_bookings_by_customer"
branch_labels = None
depends_on = None

APP_ROLE = "barberpro_app"
TENANT_TABLES = ("privacy_consents",)


def upgrade() -> None:
    op.create_table(
        "privacy_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("notice_version", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_privacy_consents_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_privacy_consents_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_privacy_consents_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_consents")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_privacy_consents_booking_id")),
    )
    op.create_index("ix_privacy_consents_tenant_customer", "privacy_consents", ["tenant_id", "customer_id"])
    _postgres_guards()


def _postgres_guards() -> None:
    """PostgreSQL only: the same row-level security wall as the tables of 0001 and 0002."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        # The role exists once 0001 has run (this revision comes after it).
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} "
            "USING (tenant_id = current_setting('barberpro.tenant_id', true)) "
            "WITH CHECK (tenant_id = current_setting('barberpro.tenant_id', true))"
        )


def _drop_postgres_guards() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")


def downgrade() -> None:
    _drop_postgres_guards()
    op.drop_index("ix_privacy_consents_tenant_customer", table_name="privacy_consents")
    op.drop_table("privacy_consents")
