"""a shop's own MercadoPago account (credentials sealed with the environment's key); payments
remember which account took them (NULL: the platform's, as every payment before this revision)

Revision ID: 0009_mercadopago_accounts
Revises: 0008_credit_notes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mercadopago_accounts"
down_revision = "0008_credit_notes"
branch_labels = None
depends_on = None

APP_ROLE = "barberpro_app"
TABLE = "mercadopago_accounts"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=False),
        sa.Column("webhook_secret_sealed", sa.Text(), nullable=False),
        sa.Column("live_mode", sa.Boolean(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_mercadopago_accounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_mercadopago_accounts")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collector_id", sa.String(length=40), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # the row-level security wall of 0001, 0002, 0006
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {TABLE} TO {APP_ROLE} "
            "USING (tenant_id = current_setting('barberpro.tenant_id', true)) "
            "WITH CHECK (tenant_id = current_setting('barberpro.tenant_id', true))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {TABLE}")
    op.drop_table(TABLE)
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("collector_id")
