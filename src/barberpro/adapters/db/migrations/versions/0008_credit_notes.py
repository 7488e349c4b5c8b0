"""credit notes (Nota de Crédito) live beside invoices, each naming the invoice it corrects

The one-invoice-per-booking rule becomes a partial unique index that leaves credit notes
out (a booking refunded twice after invoicing has one invoice and two credit notes).

Revision ID: 0008_credit_notes
Revises: 0002_payments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_credit_notes"
down_revision = "0002_payments"
branch_labels = None
depends_on = None

ONE_PER_BOOKING = sa.text("credits_invoice_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits_invoice_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invoices_credits_invoice_id_invoices"), "invoices", ["credits_invoice_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_invoices_credits_invoice_id"), ["credits_invoice_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("uq_invoices_tenant_id_booking_id"), type_="unique")
    op.create_index(
        "uq_invoices_one_per_booking",
        "invoices",
        ["tenant_id", "booking_id"],
        unique=True,
        sqlite_where=ONE_PER_BOOKING,
        postgresql_where=ONE_PER_BOOKING,
    )


def downgrade() -> None:
    # Fails while credit notes exist (their bookings have two rows): delete them first, knowingly.
    op.drop_index("uq_invoices_one_per_booking", table_name="invoices")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_invoices_tenant_id_booking_id"), ["tenant_id", "booking_id"])
        batch_op.drop_index(batch_op.f("ix_invoices_credits_invoice_id"))
        batch_op.drop_constraint(batch_op.f("fk_invoices_credits_invoice_id_invoices"), type_="foreignkey")
        batch_op.drop_column("credits_invoice_id")
