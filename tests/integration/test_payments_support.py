"""Shared set-up for the payment and invoicing tests (no tests here).

Real adapters throughout (SQL, MercadoPago client, WSAA CMS signing, WSFEv1 SOAP); only the
two remote services are fakes, reached through httpx.MockTransport.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from stdnum.ar import cuit as stdnum_cuit

from barberpro.adapters.invoicing.certificates import DevAuthority, certificate_request, key_pem, new_key
from barberpro.adapters.invoicing.fake_afip.service import FakeAfip
from barberpro.adapters.payments.fake_mercadopago import FakeMercadoPago
from barberpro.adapters.payments.services import PaymentEnvironment, PaymentServices
from barberpro.application import invoicing, payments
from barberpro.application.context import Context
from barberpro.application.payment_ports import (
    IvaCondition,
    Payment,
    PaymentGateway,
    PaymentMode,
    ShopPaymentSettings,
    TaxProfile,
)
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from platform_fixtures import T0, TenantFixture

WEBHOOK_SECRET = "mp-webhook-secret-for-tests"
SECRETS_KEY = "YmFyYmVycHJvLXRlc3Qtc2VjcmV0cy1rZXktMzJieXQ="  # 32 bytes, tests only
CUIT = "2012345678" + str(stdnum_cuit.calc_check_digit("2012345678"))
AUTH_URL = "https://auth.mercadopago.test/authorization"


@cache
def dev_ca() -> DevAuthority:
    return DevAuthority.create(T0 - timedelta(days=30))


@cache
def taxpayer_key() -> bytes:
    return key_pem(new_key())


@dataclass
class PaymentWorld:
    platform: Platform
    tenant: TenantFixture
    services: PaymentServices
    mp: FakeMercadoPago
    afip: FakeAfip

    def gateway_for_payment(self, payment: Payment | None) -> PaymentGateway:
        """What `payments reconcile` gives `reconcile`: each payment's own account."""
        return self.services.gateway_for_payment(self.tenant.tenant_id, payment)

    def owner(self) -> Context:
        actor = Actor(ActorKind.STAFF, self.tenant.owner_id, Role.OWNER)
        return Context(self.tenant.tenant_id, actor, "test", self.platform.clock.now())


def payment_world(
    platform: Platform,
    tenant: TenantFixture,
    tmp_path: Path,
    *,
    mode: PaymentMode = PaymentMode.FULL,
    iva: IvaCondition = IvaCondition.MONOTRIBUTO,
    with_tax_profile: bool = True,
    secrets_key: str | None = SECRETS_KEY,
    oauth: bool = False,
    marketplace_fee_percent: Decimal = Decimal("0"),
    redirect_url: str = "",
) -> PaymentWorld:
    """`oauth`: the platform's MercadoPago application is configured ("Conectar con MercadoPago");
    `redirect_url`: its one way back, which hands over to the shop's address."""
    mp = FakeMercadoPago(now=platform.clock.now())
    afip = FakeAfip(dev_ca().certificate, clock=platform.clock.now)
    services = PaymentServices(
        platform.database,
        str(tmp_path),
        platform.clock.now,
        environment=PaymentEnvironment(
            mercadopago_access_token="TEST-token",
            mercadopago_webhook_secret=WEBHOOK_SECRET,
            afip_wsaa_url="https://wsaahomo.test/ws/services/LoginCms",
            afip_wsfe_url="https://wswhomo.test/wsfev1/service.asmx",
            secrets_key=secrets_key,
            mercadopago_client_id=mp.client_id if oauth else "",
            mercadopago_client_secret=mp.client_secret if oauth else "",
            mercadopago_auth_url=AUTH_URL,
            mercadopago_marketplace_fee_percent=marketplace_fee_percent,
            mercadopago_redirect_url=redirect_url,
        ),
        gateway_transport=mp.transport(),
        afip_transport=afip.transport(),
    )
    platform.extras["payments"] = services
    world = PaymentWorld(platform, tenant, services, mp, afip)
    payments.configure_shop_payments(
        services.uows(tenant.tenant_id),
        world.owner(),
        ShopPaymentSettings(tenant.shop_id, mode=mode, deposit_percent=30, hold_minutes=15, late_refund_percent=50),
    )
    if with_tax_profile:
        key_path = tmp_path / "afip.key"
        key_path.write_bytes(taxpayer_key())
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(taxpayer_key(), password=None)
        csr = certificate_request(key, cuit=CUIT, organization="Barbería Alpha SRL", alias="barberpro")  # type: ignore[arg-type]
        certificate = dev_ca().issue(csr, T0 - timedelta(days=1))
        invoicing.configure_tax_profile(
            services.uows(tenant.tenant_id),
            world.owner(),
            TaxProfile(
                tenant_id=tenant.tenant_id,
                cuit=CUIT,
                legal_name="Barbería Alpha SRL",
                address="Corrientes 1234, CABA",
                iva_condition=iva,
                point_of_sale=3,
                environment="homologacion",
                gross_income_id="901-123456-7",
                activity_start=date(2020, 5, 1),
                certificate_pem=certificate.decode(),
                key_path=str(key_path),
            ),
        )
    return world
