"""Prepaid bookings over HTTP on each database: checkout, signed webhooks, confirmation, invoice, refunds."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from decimal import Decimal

import pypdf
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from test_payments_support import CUIT, WEBHOOK_SECRET, PaymentWorld, payment_world

from barberpro.adapters.invoicing.printed_invoice import decode_qr_url
from barberpro.adapters.payments.webhook_signature import signature_header
from barberpro.application import payment_notifications, payments
from barberpro.bootstrap import Platform
from conftest import staff_headers
from platform_fixtures import TenantFixture

START = "2026-03-03T10:00:00-03:00"


def body(t: TenantFixture, start: str = START, phone: str = "+54 9 11 2345-6789") -> dict[str, object]:
    return {
        "shop_id": t.shop_id,
        "service_id": t.service_id,
        "barber_id": t.barber_ids[0],
        "start": start,
        "customer": {"name": "Ana Pérez", "phone": phone, "email": "ana@example.com"},
    }


def notify(
    client: TestClient,
    world: PaymentWorld,
    payment_id: str,
    request_id: str,
    *,
    secret: str = WEBHOOK_SECRET,
    ts: int | None = None,
    signed_id: str | None = None,
):
    ts = ts if ts is not None else int(world.platform.clock.now().timestamp())
    header = signature_header(secret, signed_id or payment_id, request_id, str(ts))
    return client.post(
        f"/api/v1/payments/webhooks/mercadopago?data.id={payment_id}&type=payment",
        json={"action": "payment.updated", "type": "payment", "data": {"id": payment_id}},
        headers={"x-signature": header, "x-request-id": request_id},
    )


def audit_actions(platform: Platform, t: TenantFixture, entity_id: str) -> list[str]:
    with platform.uow(t.tenant_id, write=False) as uow:
        return [e.action for e in uow.audit.list(entity_id=entity_id)]


def test_paid_booking_end_to_end(client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path) -> None:
    world = payment_world(platform, alpha, tmp_path)
    created = client.post("/api/v1/payments/checkout", json=body(alpha), headers={"Idempotency-Key": "k1"})
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "pending_payment"
    payment = booking["payment"]
    assert payment["amount"] == "12000.00" and payment["checkout_url"].startswith("https://")
    preference = next(iter(world.mp.preferences.values()))
    assert preference["external_reference"] == booking["id"]
    assert preference["notification_url"].startswith("http://alpha.example.com/api/v1/payments/webhooks/mercadopago")
    assert preference["expires"] is True and preference["date_of_expiration"].startswith("2026-03-02T12:15:00")
    # The unpaid booking holds its slot.
    taken = client.post("/api/v1/payments/checkout", json=body(alpha, phone="+54 9 11 5555-0000"))
    assert taken.status_code == 409 and taken.json()["type"].endswith("/slot-unavailable")
    # The plain booking endpoint does not go around the payment.
    around = client.post("/api/v1/bookings", json=body(alpha, phone="+54 9 11 5555-0001"))
    assert around.status_code == 409 and around.json()["type"].endswith("/policy-violation")
    # A retried checkout returns the same booking and preference.
    again = client.post("/api/v1/payments/checkout", json=body(alpha), headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.json()["payment"]["id"] == payment["id"]
    assert len(world.mp.preferences) == 1

    paid = world.mp.pay(booking["id"])
    assert notify(client, world, paid, "req-1").status_code == 200

    owner = staff_headers(client, alpha.owner_email)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "confirmed"
    detail = client.get(f"/api/v1/bookings/{booking['id']}/payment", headers=owner).json()
    assert detail["payment"]["status"] == "approved" and detail["payment"]["paid"] == "12000.00"
    invoice = detail["invoice"]
    assert invoice["status"] == "authorized" and invoice["letter"] == "C" and invoice["number"] == 1
    assert len(invoice["cae"]) == 14 and invoice["point_of_sale"] == 3

    pdf = client.get(invoice["pdf_url"], headers=owner)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    page = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0]
    text = page.extract_text()
    assert "CAE" in text and invoice["cae"] in text and "00003" in text and "00000001" in text
    image = Image.open(io.BytesIO(page.images[0].data))
    decoded = zxingcpp.read_barcodes(image)
    assert decoded, "no QR code found on the printed invoice"
    qr = decode_qr_url(decoded[0].text)
    assert qr == {
        "ver": 1,
        "fecha": "2026-03-02",
        "cuit": int(CUIT),
        "ptoVta": 3,
        "tipoCmp": 11,
        "nroCmp": 1,
        "importe": 12000.0,
        "moneda": "PES",
        "ctz": 1,
        "tipoDocRec": 99,
        "nroDocRec": 0,
        "tipoCodAut": "E",
        "codAut": int(invoice["cae"]),
    }


def test_forged_and_replayed_webhooks_change_nothing(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    paid = world.mp.pay(booking["id"])
    now = int(platform.clock.now().timestamp())
    forged = [
        notify(client, world, paid, "r-forged-1", secret="guessed-secret"),
        notify(client, world, paid, "r-forged-2", signed_id="999"),  # signature for another payment
        notify(client, world, paid, "r-forged-3", ts=now - 3600),  # an old capture
        client.post(f"/api/v1/payments/webhooks/mercadopago?data.id={paid}&type=payment", json={}),
    ]
    assert [r.status_code for r in forged] == [401, 401, 401, 401]
    owner = staff_headers(client, alpha.owner_email)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "pending_payment"

    first = notify(client, world, paid, "r-1")
    replay = client.post(first.request.url, content=first.request.content, headers=dict(first.request.headers))
    assert first.status_code == replay.status_code == 200
    # A genuine duplicate delivery (new request id) and an out-of-order older event: still one confirmation.
    assert notify(client, world, paid, "r-2").status_code == 200
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "confirmed"
    assert audit_actions(platform, alpha, booking["id"]).count("BookingConfirmed") == 1
    metrics = client.get("/metrics").text
    assert 'barberpro_payment_webhooks_total{verdict="forged"} 4.0' in metrics
    assert 'barberpro_payment_webhooks_total{verdict="replayed"} 1.0' in metrics
    assert 'barberpro_payments_total{outcome="confirmed"} 1.0' in metrics


def test_refund_retried_three_times_pays_out_once(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    notify(client, world, world.mp.pay(booking["id"]), "r-1")
    owner = staff_headers(client, alpha.owner_email)
    world.mp.drop_after_refund = 1  # the first refund is made, but its answer is lost
    headers = owner | {"Idempotency-Key": "refund-1"}
    answers = [
        client.post(f"/api/v1/bookings/{booking['id']}/refunds", json={"amount": "5000.00"}, headers=headers)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [503, 201, 201], [a.text for a in answers]
    assert world.mp.payouts == [Decimal("5000.00")]
    detail = client.get(f"/api/v1/bookings/{booking['id']}/payment", headers=owner).json()
    assert detail["payment"]["refunded"] == "5000.00" and len(detail["refunds"]) == 1
    too_much = client.post(
        f"/api/v1/bookings/{booking['id']}/refunds",
        json={"amount": "7000.01"},
        headers=owner | {"Idempotency-Key": "refund-2"},
    )
    assert too_much.status_code == 409 and world.mp.payouts == [Decimal("5000.00")]


def test_cancellation_refunds_per_policy_once(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    notify(client, world, world.mp.pay(booking["id"]), "r-1")
    token = {"X-Manage-Token": booking["manage_token"]}
    cancelled = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "no puedo"}, headers=token)
    assert cancelled.status_code == 200, cancelled.text
    deadline = time.monotonic() + 10
    while not world.mp.payouts and time.monotonic() < deadline:
        time.sleep(0.05)  # the refund runs on the bus after the outbox relay publishes the cancellation
    assert world.mp.payouts == [Decimal("12000.00")]  # cancelled before the cut-off: all of it
    payments.refund_for_cancellation(world.services.uows, world.owner(), world.services.gateway, booking["id"])
    assert world.mp.payouts == [Decimal("12000.00")]


def test_unpaid_hold_expires_and_a_late_payment_is_returned(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    world = payment_world(platform, alpha, tmp_path, mode=payments.PaymentMode.DEPOSIT, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    assert booking["payment"]["amount"] == "3600.00"  # 30 % deposit
    platform.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    report, _ = payment_notifications.reconcile(
        world.services.uows, world.owner(), world.gateway_for_payment, older_than=timedelta(minutes=10)
    )
    assert report.expired == 1
    owner = staff_headers(client, alpha.owner_email)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "cancelled"
    # The slot is free again.
    assert client.post("/api/v1/payments/checkout", json=body(alpha, phone="+54 9 11 5555-0000")).status_code == 201
    # The customer pays anyway (an old tab): the money goes back, the booking stays cancelled.
    notify(client, world, world.mp.pay(booking["id"]), "r-late")
    assert world.mp.payouts == [Decimal("3600.00")]
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "cancelled"


def test_reconciliation_applies_a_payment_whose_notification_never_came(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    world.mp.pay(booking["id"])
    platform.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    report, applied = payment_notifications.reconcile(
        world.services.uows, world.owner(), world.gateway_for_payment, older_than=timedelta(minutes=10)
    )
    assert (report.applied, report.expired) == (1, 0) and applied[0].outcome == "confirmed"
    owner = staff_headers(client, alpha.owner_email)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "confirmed"


def test_chargeback_marks_the_booking(client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path) -> None:
    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    paid = world.mp.pay(booking["id"])
    notify(client, world, paid, "r-1")
    world.mp.set_status(paid, "charged_back")
    notify(client, world, paid, "r-2")
    owner = staff_headers(client, alpha.owner_email)
    detail = client.get(f"/api/v1/bookings/{booking['id']}/payment", headers=owner).json()
    assert detail["payment"]["status"] == "charged_back"
    assert "BookingChargedBack" in audit_actions(platform, alpha, booking["id"])


def test_shops_without_prepayment_confirm_at_once(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path
) -> None:
    payment_world(platform, alpha, tmp_path, mode=payments.PaymentMode.NONE, with_tax_profile=False)
    created = client.post("/api/v1/payments/checkout", json=body(alpha))
    assert created.status_code == 201 and created.json()["status"] == "confirmed"
    assert created.json()["payment"] is None


def test_walk_ins_never_wait_and_payments_are_tenant_scoped(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from barberpro.application.bookings import BookAppointment, CustomerDetails, book_appointment

    world = payment_world(platform, alpha, tmp_path, with_tax_profile=False)
    cmd = BookAppointment(
        alpha.shop_id,
        alpha.service_id,
        alpha.barber_ids[1],
        datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("America/Argentina/Buenos_Aires")),
        CustomerDetails("Juan", "+54 9 11 3333-4444", "juan@example.com"),
        kind="walk_in",
    )
    walk_in = book_appointment(
        platform.uow(alpha.tenant_id), world.owner(), cmd, prepayment=world.services.prepayment
    ).booking
    assert walk_in.status.value == "confirmed"
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    assert booking["status"] == "pending_payment"
    with world.services.uows(beta.tenant_id, write=False) as uow:
        assert uow.payments.for_booking(booking["id"]) is None
    # A notification for alpha's payment sent to beta's address is not beta's business.
    paid = world.mp.pay(booking["id"])
    ts = str(int(platform.clock.now().timestamp()))
    answer = client.post(
        f"/api/v1/payments/webhooks/mercadopago?data.id={paid}&type=payment",
        headers={
            "host": "beta.example.com",
            "x-request-id": "r-b",
            "x-signature": signature_header(WEBHOOK_SECRET, paid, "r-b", ts),
        },
    )
    assert answer.status_code == 200
    owner = staff_headers(client, alpha.owner_email)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=owner).json()["status"] == "pending_payment"
