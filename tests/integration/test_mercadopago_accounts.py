"""A shop's own MercadoPago account, on each database: its customers pay the shop, not the platform.

The fake MercadoPago keeps each account's payments apart (another account's token gets 404),
so these tests fail if a checkout, a notification or a refund goes through the wrong account.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_payments_flow import body, notify
from test_payments_support import WEBHOOK_SECRET, PaymentWorld, payment_world
from test_web_staff import log_in

from barberpro.adapters.security.secret_box import SecretBox, SecretBoxError, new_secrets_key
from barberpro.application import payment_notifications, payments
from barberpro.application.context import Context
from barberpro.application.payment_ports import PaymentMode, ShopPaymentSettings
from barberpro.application.staff_auth import create_staff_user
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from conftest import staff_headers
from platform_fixtures import PASSWORD, TenantFixture, make_tenant

SHOP_SECRET = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
ACCOUNT = "/api/v1/staff/mercadopago-account"


def connect(client: TestClient, owner: dict[str, str], token: str, secret: str = SHOP_SECRET):
    return client.put(ACCOUNT, json={"access_token": token, "webhook_secret": secret}, headers=owner)


def checkout(client: TestClient, tenant: TenantFixture, **headers: str) -> dict[str, object]:
    created = client.post("/api/v1/payments/checkout", json=body(tenant), headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def collector_of(world: PaymentWorld, booking_id: object) -> str:
    return str(next(p["collector_id"] for p in world.mp.preferences.values() if p["external_reference"] == booking_id))


def test_a_connected_shop_is_paid_into_its_own_account(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    token = world.mp.add_account("7001")
    connected = connect(client, owner, token)
    assert connected.status_code == 200, connected.text
    assert connected.json() | {"connected_at": None} == {
        "connected": True,
        "user_id": "7001",
        "live_mode": True,
        "connected_at": None,
        "via": "credentials",
        "expires_at": None,
        "renewal_refused_at": None,
    }
    shown = client.get(ACCOUNT, headers=owner)
    assert shown.json()["user_id"] == "7001" and token not in shown.text and SHOP_SECRET not in shown.text
    # Sealed at rest and never in the audit trail.
    with platform.database.engine.connect() as connection:
        stored = connection.execute(text("SELECT access_token_sealed, webhook_secret_sealed FROM mercadopago_accounts"))
        sealed = [value for row in stored for value in row]
        trail = json.dumps([list(r) for r in connection.execute(text("SELECT before, after FROM audit_log"))])
    assert sealed and all(v.startswith("v1:") and token not in v and SHOP_SECRET not in v for v in sealed)
    assert token not in trail and SHOP_SECRET not in trail and "MercadoPagoAccountConnected" in _actions(platform)

    booking = checkout(client, alpha)
    assert collector_of(world, booking["id"]) == "7001"
    paid = world.mp.pay(str(booking["id"]))
    # Signed with the platform's secret, the notification is about the platform's account, which
    # does not know this payment: accepted, nothing applied. The shop's own notification confirms.
    assert notify(client, world, paid, "r-platform", secret=WEBHOOK_SECRET).status_code == 200
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "pending_payment"
    assert notify(client, world, paid, "r-forged", secret="a-guess-0123456789abcdef").status_code == 401
    assert notify(client, world, paid, "r-shop", secret=SHOP_SECRET).status_code == 200
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "confirmed"
    assert world.services.gateway.get_payment(paid) is None  # the platform's token cannot even see it
    refund = client.post(
        f"/api/v1/bookings/{booking['id']}/refunds",
        json={"amount": "1000.00"},
        headers=owner | {"Idempotency-Key": "r1"},
    )
    assert refund.status_code == 201, refund.text
    assert world.mp.payouts == [Decimal("1000.00")] and world.mp.payments[int(paid)].collector == "7001"


def _actions(platform: Platform) -> str:
    with platform.database.engine.connect() as connection:
        return " ".join(r[0] for r in connection.execute(text("SELECT action FROM audit_log")))


def test_bad_credentials_are_refused_naming_the_field(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    brazilian = world.mp.add_account("7002", site_id="MLB")
    cases = [
        ("not-a-token", SHOP_SECRET, "access_token"),
        ("APP_USR-0000000000000000-unknown", SHOP_SECRET, "access_token"),  # well formed, refused by MercadoPago
        (brazilian, SHOP_SECRET, "access_token"),
        (world.mp.add_account("7003"), "short", "webhook_secret"),
        (world.mp.add_account("7004"), "", "webhook_secret"),
    ]
    for token, secret, field in cases:
        answer = connect(client, owner, token, secret)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    assert client.get(ACCOUNT, headers=owner).json() == {"connected": False}
    assert "MercadoPagoAccountConnected" not in _actions(platform)


def test_only_the_owner_connects_and_each_tenant_sees_its_own(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    beta = make_tenant(platform, "beta", barbers=1)
    owner = staff_headers(client, alpha.owner_email)
    assert connect(client, owner, world.mp.add_account("7001")).status_code == 200
    beta_owner = staff_headers(client, beta.owner_email, host="beta.example.com")
    beta_view = client.get(ACCOUNT, headers=beta_owner | {"host": "beta.example.com"})
    assert beta_view.json() == {"connected": False}
    # beta's prepaid checkouts still go to the platform's account.
    beta_ctx = Context(beta.tenant_id, Actor(ActorKind.STAFF, beta.owner_id, Role.OWNER), "t", platform.clock.now())
    payments.configure_shop_payments(
        world.services.uows(beta.tenant_id), beta_ctx, ShopPaymentSettings(beta.shop_id, mode=PaymentMode.FULL)
    )
    booking = checkout(client, beta, host="beta.example.com")
    assert collector_of(world, booking["id"]) == "platform"
    assert client.get(ACCOUNT, headers={"host": "beta.example.com"}).status_code == 401


def test_disconnecting_returns_to_the_platform_account(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    assert connect(client, owner, world.mp.add_account("7001")).status_code == 200
    assert client.delete(ACCOUNT, headers=owner).status_code == 204
    assert collector_of(world, checkout(client, alpha)["id"]) == "platform"
    again = client.delete(ACCOUNT, headers=owner)
    assert again.status_code == 404 and again.json()["errors"][0]["field"] == "account"
    assert "MercadoPagoAccountDisconnected" in _actions(platform)


def test_a_revoked_token_is_a_clear_error(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    token = world.mp.add_account("7001")
    assert connect(client, owner, token).status_code == 200
    del world.mp.accounts[token]  # the shop revoked the credentials at MercadoPago
    refused = client.post("/api/v1/payments/checkout", json=body(alpha))
    assert refused.status_code == 502 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [{"field": "access_token", "reason": "refused by MercadoPago"}]


def test_without_a_secrets_key_no_account_can_be_connected(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, secrets_key=None)
    owner = staff_headers(client, alpha.owner_email)
    refused = connect(client, owner, world.mp.add_account("7001"))
    assert refused.status_code == 409 and "BARBERPRO_SECRETS_KEY" in refused.text
    assert collector_of(world, checkout(client, alpha)["id"]) == "platform"


def test_a_sealed_value_opens_only_with_its_key_and_place() -> None:
    box = SecretBox(new_secrets_key())
    sealed = box.seal("APP_USR-123", "tenant-a:access_token")
    assert box.open(sealed, "tenant-a:access_token") == "APP_USR-123"
    assert sealed != box.seal("APP_USR-123", "tenant-a:access_token")  # a fresh nonce every time
    for wrong in (
        lambda: box.open(sealed, "tenant-b:access_token"),  # moved to another tenant
        lambda: box.open(sealed, "tenant-a:webhook_secret"),  # moved to another field
        lambda: SecretBox(new_secrets_key()).open(sealed, "tenant-a:access_token"),  # another key
        lambda: box.open(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], "tenant-a:access_token"),
        lambda: box.open("APP_USR-123", "tenant-a:access_token"),  # never sealed
    ):
        with pytest.raises(SecretBoxError):
            wrong()
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox("c2hvcnQ=")


def test_the_owner_connects_from_the_staff_page(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    token = world.mp.add_account("7001")
    csrf = log_in(client, alpha.owner_email)
    page = client.get("/staff/mercadopago")
    assert page.status_code == 200 and "Todavía no conectaste tu cuenta" in page.text
    form = {"csrf": csrf, "access_token": token, "webhook_secret": SHOP_SECRET}
    assert client.post("/staff/mercadopago", data=form | {"csrf": "forged"}).status_code == 403
    wrong = client.post("/staff/mercadopago", data=form | {"access_token": "APP_USR-0000000000000000-unknown"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text and "Revisá el Access Token" in wrong.text
    done = client.post("/staff/mercadopago", data=form, follow_redirects=True)
    assert done.status_code == 200 and "Cuenta conectada" in done.text and "usuario 7001" in done.text
    assert token not in done.text and SHOP_SECRET not in done.text
    off = client.post("/staff/mercadopago/desconectar", data={"csrf": csrf}, follow_redirects=True)
    assert "Cuenta desconectada" in off.text and "Todavía no conectaste tu cuenta" in off.text


def test_a_manager_sees_the_account_but_cannot_change_it(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = Context(alpha.tenant_id, Actor(ActorKind.STAFF, alpha.owner_id, Role.OWNER), "t", platform.clock.now())
    create_staff_user(platform.uow(alpha.tenant_id), owner, platform.hasher, email="encargada@example.com",
                      name="Encargada", password=PASSWORD, role=Role.MANAGER)  # fmt: skip
    # API tokens first: once the browser session cookie is set, the API asks for its CSRF header.
    manager_api, owner_api = staff_headers(client, "encargada@example.com"), staff_headers(client, alpha.owner_email)
    csrf = log_in(client, "encargada@example.com")
    page = client.get("/staff/mercadopago")
    assert page.status_code == 200 and "Solo quien es dueño" in page.text and 'name="access_token"' not in page.text
    form = {"csrf": csrf, "access_token": world.mp.add_account("7001"), "webhook_secret": SHOP_SECRET}
    assert client.post("/staff/mercadopago", data=form).status_code == 403
    client.cookies.clear()
    api = client.put(ACCOUNT, json=form, headers=manager_api)
    assert api.status_code == 403 and api.headers["content-type"] == "application/problem+json"
    assert client.get(ACCOUNT, headers=owner_api).json() == {"connected": False}


def test_checkouts_from_before_the_switch_stay_with_the_platform_account(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    before = checkout(client, alpha)  # the platform's account, as every checkout before connecting
    assert connect(client, owner, world.mp.add_account("7001")).status_code == 200
    after = client.post(
        "/api/v1/payments/checkout", json=body(alpha, start="2026-03-03T11:00:00-03:00", phone="+54 9 11 2345-0002")
    ).json()
    assert (collector_of(world, before["id"]), collector_of(world, after["id"])) == ("platform", "7001")
    # The customer who had the old checkout open pays it: the platform's notification confirms it ...
    paid = world.mp.pay(str(before["id"]))
    assert notify(client, world, paid, "r-old", secret=WEBHOOK_SECRET).status_code == 200
    assert client.get(f"/api/v1/bookings/{before['id']}", headers=owner).json()["status"] == "confirmed"
    # ... and its refund goes back through the platform's account, where the money is.
    refund = client.post(
        f"/api/v1/bookings/{before['id']}/refunds", json={"amount": "500.00"}, headers=owner | {"Idempotency-Key": "r"}
    )
    assert refund.status_code == 201, refund.text
    assert world.mp.payments[int(paid)].refunded == Decimal("500.00")
    # Reconciliation asks each payment's own account.
    world.mp.pay(str(after["id"]))
    platform.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    _, applied = payment_notifications.reconcile(
        world.services.uows, world.owner(), world.gateway_for_payment, older_than=timedelta(minutes=10)
    )
    assert [a.booking_id for a in applied] == [after["id"]] and applied[0].outcome == "confirmed"


def test_a_payment_of_an_account_no_longer_connected_is_a_clear_error(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    assert connect(client, owner, world.mp.add_account("7001")).status_code == 200
    booking = checkout(client, alpha)
    notify(client, world, world.mp.pay(str(booking["id"])), "r", secret=SHOP_SECRET)
    assert connect(client, owner, world.mp.add_account("7002")).status_code == 200  # another account now
    refund = client.post(
        f"/api/v1/bookings/{booking['id']}/refunds", json={"amount": "500.00"}, headers=owner | {"Idempotency-Key": "r"}
    )
    assert refund.status_code == 502 and "7001" in refund.json()["detail"]
    assert world.mp.payouts == []
