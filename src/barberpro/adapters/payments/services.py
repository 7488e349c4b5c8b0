"""Wiring of the payment and invoicing adapters from the environment (built on demand, never at import).

Environment (prefix BARBERPRO_):
  MERCADOPAGO_ACCESS_TOKEN, MERCADOPAGO_WEBHOOK_SECRET, MERCADOPAGO_API_URL (a fake in development),
  WEBHOOK_TOLERANCE_SECONDS, AFIP_WSAA_URL / AFIP_WSFE_URL (override the environment's URLs, e.g. the
  fake AFIP from `barberpro afip fake-server`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from barberpro.adapters.db.engine import Database
from barberpro.adapters.invoicing.numbering_lock import DatabaseNumberingLock
from barberpro.adapters.invoicing.wsaa import WsaaClient
from barberpro.adapters.invoicing.wsfe import WSFE_URLS, WsfeClient
from barberpro.adapters.payments.mercadopago import API_URL, MercadoPagoGateway
from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWorkFactory, SqlPrepaymentPolicy
from barberpro.application.payment_ports import PaymentGateway, TaxProfile


class PaymentEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARBERPRO_", extra="ignore")

    mercadopago_access_token: str = ""
    mercadopago_webhook_secret: str = ""
    mercadopago_api_url: str = API_URL
    webhook_tolerance_seconds: int = 300
    afip_wsaa_url: str | None = None
    afip_wsfe_url: str | None = None


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

    def __post_init__(self) -> None:
        self.uows = SqlPaymentsUnitOfWorkFactory(self.database)
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
