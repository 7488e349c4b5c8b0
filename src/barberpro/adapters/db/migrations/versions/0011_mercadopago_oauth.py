"""shops connect MercadoPago by OAuth: how the account was connected, its sealed refresh token,
when its access token expires and when MercadoPago last refused to renew it

Revision ID: 0011_mercadopago_oauth
Revises: 0010_payment_chargebacks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_mercadopago_oauth"
down_revision = "0010_payment_chargebacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mercadopago_accounts", schema=None) as batch_op:
        # Accounts connected before this revision pasted their own application's credentials.
        batch_op.add_column(sa.Column("via", sa.String(length=20), nullable=False, server_default="credentials"))
        batch_op.add_column(sa.Column("refresh_token_sealed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("renewal_refused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mercadopago_accounts", schema=None) as batch_op:
        batch_op.drop_column("renewal_refused_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("refresh_token_sealed")
        batch_op.drop_column("via")
