"""tax profiles record when invoicing through the platform began: the retry job invoices the
payments taken since whose invoice was never drafted, and leaves earlier sales alone

Revision ID: 0012_invoicing_since
Revises: 0011_mercadopago_oauth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_invoicing_since"
down_revision = "0011_mercadopago_oauth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tax_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoicing_since", sa.DateTime(timezone=True), nullable=True))
    # Profiles that exist already: from now on. Their earlier sales were invoiced when paid or left
    # to staff, and the job must not invoice them twice.
    op.execute(sa.text("UPDATE tax_profiles SET invoicing_since = CURRENT_TIMESTAMP"))


def downgrade() -> None:
    with op.batch_alter_table("tax_profiles", schema=None) as batch_op:
        batch_op.drop_column("invoicing_since")
