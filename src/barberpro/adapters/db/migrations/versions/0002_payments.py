"""payments, refunds, webhook receipts, tax profiles, invoices, counters, WSAA tickets

Revision ID: 0002_payments
Revises: 0001
Create Date: 2026-11-27 21:16:21.897050
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_payments"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("point_of_sale", sa.Integer(), nullable=False),
        sa.Column("voucher_type", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_invoice_counters_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "point_of_sale", "voucher_type", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "tax_profiles",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("cuit", sa.String(length=11), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("iva_condition", sa.String(length=30), nullable=False),
        sa.Column("point_of_sale", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=12), nullable=False),
        sa.Column("gross_income_id", sa.String(length=30), nullable=False),
        sa.Column("activity_start", sa.Date(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("key_path", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tax_profiles_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tax_profiles")),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("receipt_key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("data_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_receipts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "receipt_key", name=op.f("pk_webhook_receipts")),
    )
    op.create_table(
        "wsaa_tickets",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("cuit", sa.String(length=11), nullable=False),
        sa.Column("environment", sa.String(length=12), nullable=False),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("sign", sa.Text(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_wsaa_tickets_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "cuit", "environment", "service", name=op.f("pk_wsaa_tickets")),
    )
    op.create_table(
        "shop_payment_settings",
        sa.Column("shop_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("deposit_percent", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("late_refund_percent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shop_payment_settings_shop_id_shops")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_shop_payment_settings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_shop_payment_settings")),
    )
    with op.batch_alter_table("shop_payment_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_payment_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("preference_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_url", sa.String(length=500), nullable=True),
        sa.Column("provider_payment_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_payments_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("tenant_id", "provider_payment_id", name=op.f("uq_payments_tenant_id_provider_payment_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("payment_id", sa.String(length=36), nullable=True),
        sa.Column("cuit", sa.String(length=11), nullable=False),
        sa.Column("point_of_sale", sa.Integer(), nullable=False),
        sa.Column("voucher_type", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_to", sa.Date(), nullable=False),
        sa.Column("doc_type", sa.Integer(), nullable=False),
        sa.Column("doc_number", sa.String(length=11), nullable=False),
        sa.Column("receiver_iva_condition", sa.Integer(), nullable=False),
        sa.Column("receiver_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("net", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("vat", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("cae", sa.String(length=14), nullable=True),
        sa.Column("cae_due", sa.Date(), nullable=True),
        sa.Column("observations", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_invoices_booking_id_bookings")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_invoices_payment_id_payments")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_invoices_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "cuit",
            "point_of_sale",
            "voucher_type",
            "number",
            name=op.f("uq_invoices_cuit_point_of_sale_voucher_type_number"),
        ),
        sa.UniqueConstraint("tenant_id", "booking_id", name=op.f("uq_invoices_tenant_id_booking_id")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("payment_id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_refunds_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name=op.f("uq_refunds_tenant_id_idempotency_key")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_tenant_id"), ["tenant_id"], unique=False)
    _postgres_guards()


APP_ROLE = "barberpro_app"
TENANT_TABLES = (
    "shop_payment_settings",
    "payments",
    "refunds",
    "webhook_receipts",
    "tax_profiles",
    "invoices",
    "invoice_counters",
    "wsaa_tickets",
)


def _postgres_guards() -> None:
    """PostgreSQL only: the same row-level security wall as the tables of 0001."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
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
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_tenant_id"))

    op.drop_table("invoices")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_payments_booking_id"))

    op.drop_table("payments")
    with op.batch_alter_table("shop_payment_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_payment_settings_tenant_id"))

    op.drop_table("shop_payment_settings")
    op.drop_table("wsaa_tickets")
    op.drop_table("webhook_receipts")
    op.drop_table("tax_profiles")
    op.drop_table("invoice_counters")
