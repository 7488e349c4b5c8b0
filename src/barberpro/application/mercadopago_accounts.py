"""A shop connects its own MercadoPago account, so that its customers pay the shop, not the platform.

The owner gives the account's access token and its webhook signing secret (both from the
shop's MercadoPago application, "Credenciales de producción"). The token is checked with
MercadoPago before anything is stored (whose account is it, is it Argentinian); the secrets
are stored sealed and never shown again nor written to the audit trail. Until a shop
connects one, or after it disconnects, checkouts go through the platform's account.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.payment_ports import (
    GatewayUnauthorized,
    MercadoPagoAccount,
    PaymentGateway,
    PaymentsUnitOfWork,
)
from barberpro.application.permissions import require_role
from barberpro.domain.booking import Role
from barberpro.domain.errors import InvalidValue, NotFound

OWNERS = frozenset({Role.OWNER})
ARGENTINA = "MLA"
_TOKEN = re.compile(r"(APP_USR|TEST)-[0-9A-Za-z-]{16,200}")
_SECRET = re.compile(r"[0-9A-Za-z]{16,128}")


def connect_mercadopago_account(
    uow: PaymentsUnitOfWork,
    ctx: Context,
    gateway_with: Callable[[str], PaymentGateway],
    *,
    access_token: str,
    webhook_secret: str,
) -> MercadoPagoAccount:
    """Check the token with MercadoPago, then store the account (replacing a previous one)."""
    require_role(ctx, OWNERS)
    access_token, webhook_secret = access_token.strip(), webhook_secret.strip()
    if not _TOKEN.fullmatch(access_token):
        raise InvalidValue("an access token looks like APP_USR-… (or TEST-… for tests)", field="access_token")
    if not _SECRET.fullmatch(webhook_secret):
        raise InvalidValue("the webhook secret is 16 to 128 letters and digits", field="webhook_secret")
    try:
        found = gateway_with(access_token).current_account()
    except GatewayUnauthorized as error:
        raise InvalidValue("MercadoPago refused this access token", field="access_token") from error
    if found.site_id != ARGENTINA:
        raise InvalidValue(
            f"this is a MercadoPago account of site {found.site_id}, not Argentina", field="access_token"
        )
    account = MercadoPagoAccount(
        tenant_id=ctx.tenant_id,
        user_id=found.id,
        access_token=access_token,
        webhook_secret=webhook_secret,
        live_mode=access_token.startswith("APP_USR-"),
        connected_at=ctx.now,
    )
    with uow:
        before = uow.mercadopago_accounts.get()
        uow.mercadopago_accounts.put(account)
        record(
            uow,
            ctx,
            action="MercadoPagoAccountConnected",
            entity_type="tenant",
            entity_id=ctx.tenant_id,
            before=public_view(before),
            after=public_view(account),
        )
        uow.commit()
    return account


def disconnect_mercadopago_account(uow: PaymentsUnitOfWork, ctx: Context) -> None:
    """Back to the platform's account for new checkouts (payments already taken stay where they are)."""
    require_role(ctx, OWNERS)
    with uow:
        before = uow.mercadopago_accounts.get()
        if before is None or not uow.mercadopago_accounts.delete():
            raise NotFound("this business has no MercadoPago account connected", field="account")
        record(
            uow,
            ctx,
            action="MercadoPagoAccountDisconnected",
            entity_type="tenant",
            entity_id=ctx.tenant_id,
            before=public_view(before),
        )
        uow.commit()


def public_view(account: MercadoPagoAccount | None) -> dict[str, object] | None:
    """What may be shown or audited: whose account, never its secrets."""
    if account is None:
        return None
    return {
        "user_id": account.user_id,
        "live_mode": account.live_mode,
        "connected_at": account.connected_at.isoformat(),
    }
