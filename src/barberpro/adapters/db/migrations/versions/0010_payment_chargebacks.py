"""payments remember where a chargeback stands (in_process, settled, reimbursed; NULL without one),
so a chargeback settled against the shop is answered with a credit note

Revision ID: 0010_payment_chargebacks
Revises: 0009_mercadopago_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_payment_chargebacks"
down_revision = "0009_mercadopago_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chargeback", sa.String(length=20), nullable=True))
    # Chargebacks recorded before this revision carried no detail: read as still open (nothing credited).
    op.execute("UPDATE payments SET chargeback = 'in_process' WHERE status = 'charged_back'")


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("chargeback")
