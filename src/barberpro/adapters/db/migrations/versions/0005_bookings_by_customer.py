"""bookings by tenant and customer (a customer's data export under Ley 25.326)

Revision ID: 0005_bookings_by_customer
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0005_bookings_by_customer"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An index adds no rows, so the bookings table's tenant_isolation policy and grants from
    # 0001 already cover every query that uses it; nothing to add for row-level security.
    op.create_index("ix_bookings_tenant_customer", "bookings", ["tenant_id", "customer_id"])


def downgrade() -> None:
    op.drop_index("ix_bookings_tenant_customer", table_name="bookings")
