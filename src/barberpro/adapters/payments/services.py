"""Wiring of the payment and invoicing adapters from the environment (built on demand, never at import).

Environment (prefix BARBERPRO_):
  MERCADOPAGO_ACCESS_TOKEN, MERCADOPAGO_WEBHOOK_SECRET (the platform's account, for shops without
  their own; the secret also signs notifications about shops connected by OAuth),
  MERCADOPAGO_CLIENT_ID, MERCADOPAGO_CLIENT_SECRET (the platform's MercadoPago application, for
  "Conectar con MercadoPago"; without them shops paste their own credentials),
  MERCADOPAGO_AUTH_URL (the authorization page; a fake in development),
  MERCADOPAGO_REDIRECT_URL (optional: the platform's one way back from the authorization page,
  ending in /mercadopago/vuelta, which hands over to the shop's own address; without it each
  shop address is its own redirect URL),
  MERCADOPAGO_MARKETPLACE_FEE_PERCENT (the platform's commission on checkouts of shops connected
  by OAuth, default 0), MERCADOPAGO_API_URL (a fake in development), SECRETS_KEY (seals the shops' own
  MercadoPago credentials in the database; without it shops cannot connect an account),
  WEBHOOK_TOLERANCE_SECONDS, AFIP_WSAA_URL / AFIP_WSFE_URL (override the environment's URLs, e.g. the
  fake AFIP from `barberpro afip fake-server`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from barberpro.adapters.db.engine import Database
from barberpro.adapters.invoicing.numbering_lock import DatabaseNumberingLock
from barberpro.adapters.invoicing.wsaa import WsaaClient
from barberpro.adapters.invoicing.wsfe import WSFE_URLS, WsfeClient
from barberpro.adapters.payments.mercadopago import API_URL, MercadoPagoGateway
from barberpro.adapters.payments.mercadopago_oauth import AUTH_URL, MercadoPagoOAuth
from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWorkFactory, SqlPrepaymentPolicy
from barberpro.adapters.security.secret_box import SecretBox
from barberpro.application.payment_ports import (
    GatewayUnauthorized,
    MercadoPagoAccount,
    Payment,
    PaymentGateway,
    TaxProfile,
)


class PaymentEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARBERPRO_", extra="ignore")

    mercadopago_access_token: str = ""
    mercadopago_webhook_secret: str = ""
    mercadopago_api_url: str = API_URL
    mercadopago_client_id: str = ""
    mercadopago_client_secret: str = ""
    mercadopago_auth_url: str = AUTH_URL
    mercadopago_redirect_url: str = ""
    mercadopago_marketplace_fee_percent: Decimal = Field(default=Decimal("0"), ge=0, le=50)
    webhook_tolerance_seconds: int = 300
    afip_wsaa_url: str | None = None
    afip_wsfe_url: str | None = None
    secrets_key: str | None = None


@dataclass
class PaymentServices:
    database: Database
    var_dir: str
    clock: Callable[[], datetime]
    environment: PaymentEnvironment = field(default_factory=PaymentEnvironment)
    gateway_transport: httpx.BaseTransport | None = None  # tests and the fake
    afip_transport: httpx.BaseTransport | None = None
    _gateway: PaymentGateway | None = None
    _wsaa: dict[tuple[str, str], WsaaClient] = field(default_factory=dict)
    _by_token: dict[tuple[str, str | None, Decimal], MercadoPagoGateway] = field(default_factory=dict)
    _oauth: MercadoPagoOAuth | None = None

    def __post_init__(self) -> None:
        box = SecretBox(self.environment.secrets_key) if self.environment.secrets_key else None
        self.box = box  # also seals the OAuth flow's state cookie
        self.uows = SqlPaymentsUnitOfWorkFactory(self.database, box)
        self.prepayment = SqlPrepaymentPolicy(self.uows)
        self.lock = DatabaseNumberingLock(self.database, Path(self.var_dir) / "locks")

    @property
    def gateway(self) -> PaymentGateway:
        if self._gateway is None:
            self._gateway = MercadoPagoGateway(
                self.environment.mercadopago_access_token or "TEST-unset",
                base_url=self.environment.mercadopago_api_url,
                transport=self.gateway_transport,
            )
        return self._gateway

    def gateway_with(
        self, access_token: str, collector_id: str | None = None, marketplace_fee_percent: Decimal = Decimal("0")
    ) -> PaymentGateway:
        """A client acting for the account this token belongs to (one per token and account, reused)."""
        key = (access_token, collector_id, marketplace_fee_percent)
        found = self._by_token.get(key)
        if found is None:
            found = self._by_token[key] = MercadoPagoGateway(
                access_token,
                base_url=self.environment.mercadopago_api_url,
                transport=self.gateway_transport,
                collector_id=collector_id,
                marketplace_fee_percent=marketplace_fee_percent,
            )
        return found

    @property
    def authorization(self) -> MercadoPagoOAuth | None:
        """The platform's MercadoPago application, when it is configured (else shops paste credentials)."""
        env = self.environment
        if not (env.mercadopago_client_id and env.mercadopago_client_secret):
            return None
        if self._oauth is None:
            self._oauth = MercadoPagoOAuth(
                env.mercadopago_client_id,
                env.mercadopago_client_secret,
                clock=self.clock,
                base_url=env.mercadopago_api_url,
                auth_url=env.mercadopago_auth_url,
                transport=self.gateway_transport,
            )
        return self._oauth

    def account_of(self, tenant_id: str) -> MercadoPagoAccount | None:
        # Read even without a key: a shop that connected an account must not silently fall back to
        # the platform's when the key goes missing (the repository refuses to open it instead).
        with self.uows(tenant_id, write=False) as uow:
            return uow.mercadopago_accounts.get()

    def gateway_for(self, tenant_id: str) -> PaymentGateway:
        """The shop's own account when it connected one, else the platform's."""
        account = self.account_of(tenant_id)
        return self._own(account) if account else self.gateway

    def _own(self, account: MercadoPagoAccount) -> PaymentGateway:
        # The platform's commission only on checkouts it creates through its own application (OAuth).
        fee = self.environment.mercadopago_marketplace_fee_percent if account.via == "oauth" else Decimal("0")
        return self.gateway_with(account.access_token, account.user_id, fee)

    def gateway_for_collector(self, tenant_id: str, collector_id: str | None) -> PaymentGateway:
        """The account that took a payment: the platform's (None) or the shop's, if still connected."""
        if collector_id is None:
            return self.gateway
        account = self.account_of(tenant_id)
        if account is None or account.user_id != collector_id:
            raise GatewayUnauthorized(
                f"the payment was taken by MercadoPago account {collector_id}, no longer connected to this shop"
            )
        return self._own(account)

    def gateway_for_payment(self, tenant_id: str, payment: Payment | None) -> PaymentGateway:
        """A payment's own account; with no payment yet, the account new checkouts use."""
        return self.gateway_for_collector(tenant_id, payment.collector_id) if payment else self.gateway_for(tenant_id)

    def gateway_for_booking(self, tenant_id: str, booking_id: str) -> PaymentGateway:
        with self.uows(tenant_id, write=False) as uow:
            payment = uow.payments.for_booking(booking_id)
        return self.gateway_for_payment(tenant_id, payment)

    def notification_accounts(self, tenant_id: str) -> list[tuple[str, PaymentGateway]]:
        """(webhook secret, client) for each account that may notify about this shop's payments: its
        own (signed with its application's secret; with the platform application's when it was
        connected by OAuth), then the platform's (checkouts from before it connected one, or after
        it disconnected)."""
        account = self.account_of(tenant_id)
        platform_secret = self.environment.mercadopago_webhook_secret
        platform = (platform_secret, self.gateway)
        if account is None:
            return [platform]
        return [(account.webhook_secret or platform_secret, self._own(account)), platform]

    def tax_authority(self, profile: TaxProfile) -> WsfeClient:
        key = (profile.tenant_id, profile.cuit)
        wsaa = self._wsaa.get(key)
        if wsaa is None:
            wsaa = WsaaClient(
                tenant_id=profile.tenant_id,
                cuit=profile.cuit,
                environment=profile.environment,
                certificate_pem=profile.certificate_pem.encode(),
                key_pem=Path(profile.key_path).read_bytes(),
                uows=self.uows,
                lock=self.lock,
                clock=self.clock,
                url=self.environment.afip_wsaa_url,
                transport=self.afip_transport,
            )
            self._wsaa[key] = wsaa
        client = wsaa
        return WsfeClient(
            cuit=profile.cuit,
            ticket=lambda: client.ticket("wsfe"),
            url=self.environment.afip_wsfe_url or WSFE_URLS[profile.environment],
            transport=self.afip_transport,
        )
