"""A shop connects MercadoPago by authorising the platform's application (OAuth code + PKCE), on each database.

The fake MercadoPago issues one-time codes bound to the application, the redirect URL and the
PKCE challenge, single-use refresh tokens, and revokes the old access token on refresh; so these
tests fail if the way back accepts a code from another flow, if the verifier is not sent, or if
a refresh token is spent twice.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_payments_flow import body, notify
from test_payments_support import AUTH_URL, WEBHOOK_SECRET, PaymentWorld, payment_world
from test_web_staff import log_in

from barberpro.adapters.clock import FixedClock
from barberpro.application import mercadopago_accounts
from barberpro.application.payment_ports import GatewayUnauthorized
from barberpro.bootstrap import Platform
from barberpro.entrypoints.cli.payments import _renew_authorisation
from platform_fixtures import TenantFixture

CALLBACK = "http://alpha.example.com/staff/mercadopago/vuelta"


def start(client: TestClient) -> dict[str, str]:
    """Follow "Conectar con MercadoPago": where the browser is sent, as a dict of its query."""
    sent = client.get("/staff/mercadopago/conectar", follow_redirects=False)
    assert sent.status_code == 303, sent.text
    url = urlsplit(sent.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == AUTH_URL
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def consent(world: PaymentWorld, asked: dict[str, str], user_id: str) -> str:
    """The seller says yes on MercadoPago's page: the code MercadoPago sends back."""
    return world.mp.authorize(
        user_id,
        client_id=asked["client_id"],
        redirect_uri=asked["redirect_uri"],
        code_challenge=asked["code_challenge"],
    )


def come_back(client: TestClient, code: str, state: str):
    return client.get("/staff/mercadopago/vuelta", params={"code": code, "state": state}, follow_redirects=False)


def connected(world: PaymentWorld, client: TestClient, user_id: str = "7100") -> None:
    log_in(client, world.tenant.owner_email)
    asked = start(client)
    back = come_back(client, consent(world, asked, user_id), asked["state"])
    assert back.status_code == 303 and back.headers["location"] == "/staff/mercadopago?aviso=conectada", back.text


def stored(world: PaymentWorld):
    account = world.services.account_of(world.tenant.tenant_id)
    assert account is not None
    return account


def test_an_owner_connects_by_authorising_the_platform_application(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, oauth=True, marketplace_fee_percent=Decimal("5"))
    customer = TestClient(client.app, base_url="http://alpha.example.com")  # no staff session
    # A checkout opened before the shop connects is the platform's (no fee there).
    early = customer.post(
        "/api/v1/payments/checkout", json=body(alpha, start="2026-03-03T11:00:00-03:00", phone="+54 9 11 2345-0009")
    ).json()
    log_in(client, alpha.owner_email)
    assert "Conectar con MercadoPago" in client.get("/staff/mercadopago").text
    asked = start(client)
    assert asked | {"state": "", "code_challenge": ""} == {
        "client_id": world.mp.client_id,
        "response_type": "code",
        "platform_id": "mp",
        "state": "",
        "redirect_uri": CALLBACK,
        "code_challenge": "",
        "code_challenge_method": "S256",
    }
    assert len(asked["state"]) >= 32 and len(asked["code_challenge"]) == 43
    assert client.cookies.get("mp_oauth", path="/staff/mercadopago")

    back = come_back(client, consent(world, asked, "7100"), asked["state"])
    assert back.status_code == 303 and back.headers["location"] == "/staff/mercadopago?aviso=conectada", back.text
    assert "mp_oauth" not in client.cookies  # spent
    account = stored(world)
    now = platform.clock.now()
    assert (account.user_id, account.via, account.webhook_secret) == ("7100", "oauth", "")
    assert account.expires_at == now + timedelta(days=180) and account.refresh_token
    (exchange,) = world.mp.token_requests
    assert exchange["grant_type"] == "authorization_code" and exchange["redirect_uri"] == CALLBACK
    assert exchange["code_verifier"] and exchange["client_secret"] == world.mp.client_secret
    page = client.get("/staff/mercadopago").text
    assert "con «Conectar con MercadoPago»" in page and "se renueva sola" in page
    # The tokens are sealed at rest and never in the audit trail.
    with platform.database.engine.connect() as connection:
        row = connection.execute(
            text("SELECT access_token_sealed, refresh_token_sealed, via FROM mercadopago_accounts")
        ).one()
        trail = json.dumps([list(r) for r in connection.execute(text("SELECT action, before, after FROM audit_log"))])
    assert row[2] == "oauth" and all(v.startswith("v1:") for v in row[:2])
    assert account.access_token not in str(row) and account.refresh_token not in str(row)
    assert account.access_token not in trail and account.refresh_token not in trail
    assert "MercadoPagoAccountConnected" in trail

    # Checkouts go to the shop's account, with the platform's 5 % commission; its notifications are
    # signed with the platform application's secret and confirm the booking.
    made = customer.post("/api/v1/payments/checkout", json=body(alpha))
    assert made.status_code == 201, made.text
    booking = made.json()
    preference = next(p for p in world.mp.preferences.values() if p["external_reference"] == booking["id"])
    assert preference["collector_id"] == "7100" and preference["marketplace_fee"] == 600.0
    paid = world.mp.pay(str(booking["id"]))
    assert notify(customer, world, paid, "r-oauth", secret=WEBHOOK_SECRET).status_code == 200
    with world.services.uows(alpha.tenant_id, write=False) as uow:
        payment = uow.payments.for_booking(str(booking["id"]))
    assert payment is not None and payment.status.value == "approved" and payment.collector_id == "7100"
    # The early checkout, paid now into the platform's account: its notification carries the same
    # secret, the shop's account does not know the payment, the platform's applies it at once.
    early_preference = next(p for p in world.mp.preferences.values() if p["external_reference"] == early["id"])
    assert early_preference["collector_id"] == "platform" and "marketplace_fee" not in early_preference
    early_paid = world.mp.pay(str(early["id"]))
    assert notify(customer, world, early_paid, "r-early", secret=WEBHOOK_SECRET).status_code == 200
    with world.services.uows(alpha.tenant_id, write=False) as uow:
        early_payment = uow.payments.for_booking(str(early["id"]))
    assert early_payment is not None and early_payment.status.value == "approved"
    assert early_payment.collector_id is None


def test_the_way_back_needs_this_sessions_fresh_state_and_verifier(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, oauth=True)
    log_in(client, alpha.owner_email)

    def refused(answer, status: int = 400) -> None:
        assert answer.status_code == status, answer.text
        assert "MercadoPago" in answer.text and world.services.account_of(alpha.tenant_id) is None

    # Without pressing the button (someone else's link with their own code), or a forged state.
    refused(come_back(client, "TG-attacker-code-123", "their-state"))
    asked = start(client)
    refused(come_back(client, consent(world, asked, "6666"), "forged-" + asked["state"]))
    # Each attempt spends the flow: the right state no longer works after a refusal.
    refused(come_back(client, consent(world, asked, "7100"), asked["state"]))
    # The owner says no at MercadoPago: it comes back with an error and no code.
    cancelled = start(client)
    back = client.get("/staff/mercadopago/vuelta", params={"error": "access_denied", "state": cancelled["state"]})
    refused(back)
    assert "la autorización se canceló en MercadoPago" in back.text
    # A flow started earlier is replaced by the next one.
    first = start(client)
    second = start(client)
    refused(come_back(client, consent(world, first, "7100"), first["state"]))
    # A code minted for another PKCE challenge (another flow's) is refused by MercadoPago.
    third = start(client)
    foreign = world.mp.authorize(
        "6666",
        client_id=third["client_id"],
        redirect_uri=third["redirect_uri"],
        code_challenge=second["code_challenge"],
    )
    refused(come_back(client, foreign, third["state"]), 422)
    # Ten minutes is all a flow has.
    late = start(client)
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(timedelta(minutes=11))
    refused(come_back(client, consent(world, late, "7100"), late["state"]))
    # Another tenant's session cannot use alpha's flow, even with its cookie.
    alpha_flow = start(client)
    sealed = client.cookies.get("mp_oauth", path="/staff/mercadopago")
    beta_client = TestClient(client.app, base_url="http://beta.example.com")
    log_in(beta_client, beta.owner_email)
    beta_client.cookies.set("mp_oauth", sealed or "", domain="beta.example.com", path="/staff/mercadopago")
    crossed = come_back(beta_client, consent(world, alpha_flow, "6666"), alpha_flow["state"])
    assert crossed.status_code == 400 and world.services.account_of(beta.tenant_id) is None
    with platform.database.engine.connect() as connection:
        actions = [r[0] for r in connection.execute(text("SELECT action FROM audit_log"))]
    assert "MercadoPagoAccountConnected" not in actions


PLATFORM_RETURN = "https://barberpro.example.net/mercadopago/vuelta"


def test_one_platform_address_hands_the_owner_back_to_the_shop(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, oauth=True, redirect_url=PLATFORM_RETURN)
    hub = TestClient(client.app, base_url="https://barberpro.example.net")  # no session, no tenant

    def hand_over(**answer: str):
        return hub.get("/mercadopago/vuelta", params=answer, follow_redirects=False)

    log_in(client, alpha.owner_email)
    asked = start(client)
    # MercadoPago is told the platform's one address; the state names the shop's, sealed.
    assert asked["redirect_uri"] == PLATFORM_RETURN
    assert "alpha.example.com" not in asked["state"] and len(asked["state"]) <= 1000
    code = consent(world, asked, "7100")
    handed = hand_over(code=code, state=asked["state"])
    assert handed.status_code == 303, handed.text
    location = urlsplit(handed.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert parse_qs(location.query) == {"code": [code], "state": [asked["state"]]}
    # On the shop's address, with the session and the flow's cookie: connected, the code exchanged
    # for the same redirect URL MercadoPago was given.
    back = come_back(client, code, asked["state"])
    assert back.status_code == 303 and back.headers["location"] == "/staff/mercadopago?aviso=conectada", back.text
    (exchange,) = world.mp.token_requests
    assert exchange["redirect_uri"] == PLATFORM_RETURN and stored(world).user_id == "7100"

    # The owner says no: MercadoPago's answer goes on to the shop as it came.
    cancelled = start(client)
    refused = hand_over(error="access_denied", state=cancelled["state"])
    assert refused.status_code == 303
    assert parse_qs(urlsplit(refused.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": [cancelled["state"]],
    }

    # The platform address sends nobody anywhere on a state it did not seal, a tampered one, an
    # expired one, or none at all (it is not an open redirect).
    fresh = start(client)
    tampered = fresh["state"][:-4] + ("AAAA" if not fresh["state"].endswith("AAAA") else "BBBB")
    for state in ("", "a-state-of-our-own", tampered):
        answer = hand_over(code="TG-1", state=state)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "MercadoPago no confirmó la conexión" in answer.text
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(timedelta(minutes=11))
    assert hand_over(code="TG-1", state=fresh["state"]).status_code == 400
    # Another shop's owner handed alpha's code cannot use it: the state is alpha's flow's, the
    # hand-over goes to alpha's address only, and beta's session has no such flow.
    log_in(client, alpha.owner_email)
    alpha_flow = start(client)
    handed = hand_over(code=consent(world, alpha_flow, "6666"), state=alpha_flow["state"])
    assert urlsplit(handed.headers["location"]).netloc == "alpha.example.com"
    beta_client = TestClient(client.app, base_url="http://beta.example.com")
    log_in(beta_client, beta.owner_email)
    crossed = beta_client.get(
        "/staff/mercadopago/vuelta" + "?" + urlsplit(handed.headers["location"]).query, follow_redirects=False
    )
    assert crossed.status_code == 400 and world.services.account_of(beta.tenant_id) is None


def test_without_the_platform_application_there_is_no_button(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    payment_world(platform, alpha, tmp_path, oauth=False)
    log_in(client, alpha.owner_email)
    page = client.get("/staff/mercadopago")
    assert page.status_code == 200 and "Conectar con MercadoPago" not in page.text
    missing = client.get("/staff/mercadopago/conectar", follow_redirects=False)
    assert missing.status_code == 404


def test_the_reconciliation_renews_the_authorisation_a_month_before_it_expires(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, oauth=True)
    connected(world, client)
    before = stored(world)
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    ctx = world.owner

    clock.advance(timedelta(days=149))  # 31 days left
    assert _renew_authorisation(world.services, ctx()) == "not due"
    clock.advance(timedelta(days=2))  # 29 days left
    assert _renew_authorisation(world.services, ctx()) == "renewed"
    after = stored(world)
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert after.expires_at == clock.now() + timedelta(days=180) and after.user_id == "7100"
    assert before.access_token not in world.mp.accounts  # MercadoPago revoked the old one
    assert world.services.gateway_for(alpha.tenant_id).current_account().id == "7100"  # the new token works
    assert _renew_authorisation(world.services, ctx()) == "not due"

    # Two jobs at once spend the refresh token once.
    clock.advance(timedelta(days=151))
    results: list[object] = []

    def renew() -> None:
        results.append(
            mercadopago_accounts.refresh_authorized_account(world.services.uows, ctx(), world.services.authorization)
        )

    threads = [threading.Thread(target=renew) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1
    assert [r["grant_type"] for r in world.mp.token_requests].count("refresh_token") == 2  # one per renewal

    # The seller withdrew the platform's access: refused, recorded, the account left as it was.
    world.mp.revoke("7100")
    clock.advance(timedelta(days=151))
    kept = stored(world)
    assert _renew_authorisation(world.services, ctx()) == "refused"
    marked = stored(world)
    assert marked.renewal_refused_at == clock.now() and marked.access_token == kept.access_token
    # The job runs every minute: within a day the refusal stands without asking or auditing again.
    asked = len(world.mp.token_requests)
    clock.advance(timedelta(hours=23))
    with pytest.raises(GatewayUnauthorized):
        mercadopago_accounts.refresh_authorized_account(world.services.uows, ctx(), world.services.authorization)
    assert len(world.mp.token_requests) == asked
    clock.advance(timedelta(hours=2))
    assert _renew_authorisation(world.services, ctx()) == "refused"
    assert len(world.mp.token_requests) == asked + 1
    log_in(client, alpha.owner_email)  # the session of the start expired in the months gone by
    assert "MercadoPago no renovó la autorización" in client.get("/staff/mercadopago").text
    with platform.database.engine.connect() as connection:
        actions = [r[0] for r in connection.execute(text("SELECT action FROM audit_log"))]
    assert actions.count("MercadoPagoAccountRefreshed") == 2 and actions.count("MercadoPagoAccountRefreshRefused") == 2
    assert stored(world).access_token == kept.access_token  # usable until it expires
