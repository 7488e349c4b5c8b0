"""A shop connects its own MercadoPago account, so that its customers pay the shop, not the platform.

Two ways. With "Conectar con MercadoPago" the owner authorises the platform's MercadoPago
application (OAuth authorization code with PKCE): the platform receives an access token for
the shop's account, valid 180 days, and a refresh token it exchanges for a new pair before
then; notifications come signed with the platform application's secret, and the platform
may take a marketplace fee. Or the owner pastes their own application's access token and
webhook signing secret ("Credenciales de producción"). Either way the token is checked with
MercadoPago before anything is stored (whose account is it, is it Argentinian); the secrets
are stored sealed and never shown again nor written to the audit trail. Until a shop
connects one, or after it disconnects, checkouts go through the platform's account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.payment_ports import (
    GatewayUnauthorized,
    MercadoPagoAccount,
    MercadoPagoAuthorization,
    OAuthGrant,
    PaymentGateway,
    PaymentsUnitOfWork,
    PaymentsUnitOfWorkFactory,
)
from barberpro.application.permissions import require_role
from barberpro.domain.booking import Role
from barberpro.domain.errors import InvalidValue, NotFound

OWNERS = frozenset({Role.OWNER})
ARGENTINA = "MLA"
_TOKEN = re.compile(r"(APP_USR|TEST)-[0-9A-Za-z-]{16,200}")
_SECRET = re.compile(r"[0-9A-Za-z]{16,128}")
_CODE = re.compile(r"[0-9A-Za-z_.-]{8,256}")
# Renew a month before the 180-day token expires: the reconciliation job has a month of tries.
REFRESH_WITHIN = timedelta(days=30)
# After MercadoPago refused a renewal, ask again once a day (not on every run of the job).
RETRY_REFUSED_AFTER = timedelta(days=1)


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
    account = MercadoPagoAccount(
        tenant_id=ctx.tenant_id,
        user_id=_argentinian_account(gateway_with, access_token),
        access_token=access_token,
        webhook_secret=webhook_secret,
        live_mode=access_token.startswith("APP_USR-"),
        connected_at=ctx.now,
    )
    _store(uow, ctx, account)
    return account


def _argentinian_account(gateway_with: Callable[[str], PaymentGateway], access_token: str) -> str:
    """The MercadoPago user id the token acts for; refused unless MercadoPago accepts it for Argentina."""
    try:
        found = gateway_with(access_token).current_account()
    except GatewayUnauthorized as error:
        raise InvalidValue("MercadoPago refused this access token", field="access_token") from error
    if found.site_id != ARGENTINA:
        raise InvalidValue(
            f"this is a MercadoPago account of site {found.site_id}, not Argentina", field="access_token"
        )
    return found.id


def _store(uow: PaymentsUnitOfWork, ctx: Context, account: MercadoPagoAccount) -> None:
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


def connect_authorized_account(
    uow: PaymentsUnitOfWork,
    ctx: Context,
    authorization: MercadoPagoAuthorization,
    gateway_with: Callable[[str], PaymentGateway],
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> MercadoPagoAccount:
    """The owner came back from MercadoPago's authorization page with a code: exchange it (with the
    PKCE verifier of the request that sent them there) and store the account it grants."""
    require_role(ctx, OWNERS)
    if not _CODE.fullmatch(code):
        raise InvalidValue("MercadoPago's authorization code is missing or malformed", field="code")
    try:
        grant = authorization.exchange(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    except GatewayUnauthorized as error:
        raise InvalidValue("MercadoPago refused the authorization code (used or expired)", field="code") from error
    user_id = _argentinian_account(gateway_with, grant.access_token)
    if user_id != grant.user_id:  # the token must act for the account MercadoPago says it granted
        raise InvalidValue("MercadoPago's token and grant name different accounts", field="code")
    account = _authorized(ctx, grant)
    _store(uow, ctx, account)
    return account


def _authorized(ctx: Context, grant: OAuthGrant) -> MercadoPagoAccount:
    return MercadoPagoAccount(
        tenant_id=ctx.tenant_id,
        user_id=grant.user_id,
        access_token=grant.access_token,
        webhook_secret="",  # notifications are signed with the platform application's secret
        live_mode=grant.live_mode,
        connected_at=ctx.now,
        via="oauth",
        refresh_token=grant.refresh_token,
        expires_at=grant.expires_at,
    )


def refresh_authorized_account(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authorization: MercadoPagoAuthorization,
    within: timedelta = REFRESH_WITHIN,
) -> MercadoPagoAccount | None:
    """Exchange an authorised account's refresh token for a new pair when the access token expires
    within `within` (the reconciliation job calls this for each shop). Returns the refreshed
    account, or None when nothing was due. A refused refresh (the seller revoked the platform's
    access) is recorded on the account (`renewal_refused_at`, which the staff page shows) and in
    the audit trail, and raised: the account stays usable until it expires or the owner connects
    again. Within a day of a refusal it is not asked again (raised, nothing recorded).

    The refresh happens under the shop's lock, so two jobs never spend one refresh token twice
    (MercadoPago invalidates it on first use)."""
    with uows(ctx.tenant_id) as uow:
        uow.lock("mercadopago-account", ctx.tenant_id)
        account = uow.mercadopago_accounts.get()
        if account is None or account.via != "oauth" or account.refresh_token is None or account.expires_at is None:
            return None
        if account.expires_at - ctx.now > within:
            return None
        refused = account.renewal_refused_at
        if refused is not None and ctx.now - refused < RETRY_REFUSED_AFTER:
            raise GatewayUnauthorized(f"MercadoPago refused to renew this authorisation at {refused.isoformat()}")
        try:
            grant = authorization.refresh(account.refresh_token)
        except GatewayUnauthorized:
            marked = replace(account, renewal_refused_at=ctx.now)
            uow.mercadopago_accounts.put(marked)
            record(
                uow,
                ctx,
                action="MercadoPagoAccountRefreshRefused",
                entity_type="tenant",
                entity_id=ctx.tenant_id,
                before=public_view(account),
                after=public_view(marked),
            )
            uow.commit()
            raise
        if grant.user_id != account.user_id:
            raise GatewayUnauthorized("MercadoPago refreshed the token for another account")
        refreshed = replace(
            account,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            expires_at=grant.expires_at,
            live_mode=grant.live_mode,
            renewal_refused_at=None,
        )
        uow.mercadopago_accounts.put(refreshed)
        record(
            uow,
            ctx,
            action="MercadoPagoAccountRefreshed",
            entity_type="tenant",
            entity_id=ctx.tenant_id,
            before=public_view(account),
            after=public_view(refreshed),
        )
        uow.commit()
        return refreshed


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
        "via": account.via,
        "expires_at": account.expires_at.isoformat() if account.expires_at else None,
        "renewal_refused_at": account.renewal_refused_at.isoformat() if account.renewal_refused_at else None,
    }
