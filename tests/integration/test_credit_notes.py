"""Refunds after invoicing are answered with AFIP credit notes, on each database; money that
comes back to the shop after one (a chargeback won on appeal) with a debit note.

A credit note (Nota de Crédito A, B or C, the invoice's class) covers what the invoice no
longer does, names the invoice in CbtesAsoc, and is numbered in its own sequence; a debit
note (Nota de Débito A, B or C) adds back, the same way. The fake AFIP refuses a note without
its invoice or a credit note that takes off more than the invoice and its debit notes add up to.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from test_payments_flow import audit_actions, body, notify
from test_payments_support import CUIT, PaymentWorld, payment_world

from barberpro.adapters.invoicing.printed_invoice import decode_qr_url
from barberpro.application import invoicing, payment_notifications, payments
from barberpro.application.payment_ports import AssociatedVoucher, Invoice, InvoiceStatus, IvaCondition, Message
from barberpro.bootstrap import Platform
from barberpro.domain.errors import PolicyViolation
from conftest import staff_headers
from platform_fixtures import TenantFixture

FACTURA_C_KEY = (CUIT, 3, 11)
NOTA_C_KEY = (CUIT, 3, 13)
DEBITO_C_KEY = (CUIT, 3, 12)
NOTHING_SWEPT = invoicing.VoucherSweep([], [], [], [])


def paid_booking(client: TestClient, world: PaymentWorld, **at: str) -> str:
    booking = client.post("/api/v1/payments/checkout", json=body(world.tenant, **at)).json()
    assert notify(client, world, world.mp.pay(booking["id"]), f"r-{booking['id']}").status_code == 200
    return str(booking["id"])


def refund(client: TestClient, headers: dict[str, str], booking_id: str, amount: str, key: str):
    return client.post(
        f"/api/v1/bookings/{booking_id}/refunds", json={"amount": amount}, headers=headers | {"Idempotency-Key": key}
    )


def refund_directly(world: PaymentWorld, booking_id: str, amount: str | None, key: str = "k") -> None:
    s = world.services
    money = Decimal(amount) if amount else None
    payments.refund_payment(s.uows, world.owner(), s.gateway, booking_id, amount=money, idempotency_key=key, reason="r")


def paid_and_refunded(client: TestClient, world: PaymentWorld, amount: str) -> tuple[PaymentWorld, str]:
    """A paid, invoiced booking with `amount` refunded and no credit note asked for yet."""
    booking_id = paid_booking(client, world)
    refund_directly(world, booking_id, amount)
    return world, booking_id


def stored_notes(world: PaymentWorld, booking_id: str) -> list[Invoice]:
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        invoice = uow.invoices.for_booking(booking_id)
        return uow.invoices.corrections(invoice.id) if invoice else []


def test_each_refund_after_invoicing_gets_its_credit_note(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking_id = paid_booking(client, world)
    owner = staff_headers(client, alpha.owner_email)
    invoice = client.get(f"/api/v1/bookings/{booking_id}/payment", headers=owner).json()["invoice"]
    assert invoice["status"] == "authorized" and invoice["voucher_type"] == 11 and invoice["total"] == "12000.00"

    first = refund(client, owner, booking_id, "5000.00", "refund-1")
    assert first.status_code == 201, first.text
    note = first.json()["credit_note"]
    assert note["kind"] == "credit_note" and note["credits_invoice_id"] == invoice["id"]
    assert (note["status"], note["letter"], note["voucher_type"], note["number"]) == ("authorized", "C", 13, 1)
    assert note["total"] == "5000.00" and note["vat"] == "0.00" and len(note["cae"]) == 14
    (at_afip,) = world.afip.vouchers[NOTA_C_KEY]
    assert at_afip.credits == (3, 11, 1) and at_afip.total == Decimal("5000.00")

    # The same refund retried: no second payout, no second credit note.
    assert refund(client, owner, booking_id, "5000.00", "refund-1").status_code == 201
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1

    second = refund(client, owner, booking_id, "7000.00", "refund-2").json()["credit_note"]
    assert (second["number"], second["total"]) == (2, "7000.00")
    detail = client.get(f"/api/v1/bookings/{booking_id}/payment", headers=owner).json()
    assert [n["number"] for n in detail["credit_notes"]] == [1, 2]
    assert sum(Decimal(n["total"]) for n in detail["credit_notes"]) == Decimal(invoice["total"])
    assert len(world.afip.vouchers[FACTURA_C_KEY]) == 1  # the invoice itself is untouched
    assert audit_actions(platform, alpha, note["id"]).count("CreditNoteDrafted") == 1

    name, text, qr = printed(client, owner, note["pdf_url"])
    assert "nota-de-credito-C-00003-00000001" in name
    assert "NOTA DE CR" in text and "COD. 013" in text and "Factura C 00003-00000001" in text
    assert (qr["tipoCmp"], qr["nroCmp"], qr["importe"]) == (13, 1, 5000.0)


def printed(client: TestClient, headers: dict[str, str], pdf_url: str) -> tuple[str, str, dict]:
    """A voucher's PDF as staff open it: its file name, its text and its AFIP QR's payload."""
    pdf = client.get(pdf_url, headers=headers)
    assert pdf.status_code == 200, pdf.text
    page = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0]
    qr = decode_qr_url(zxingcpp.read_barcodes(Image.open(io.BytesIO(page.images[0].data)))[0].text)
    return pdf.headers["content-disposition"], page.extract_text(), qr


def test_a_cancellation_refund_is_credited(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking = client.post("/api/v1/payments/checkout", json=body(alpha)).json()
    notify(client, world, world.mp.pay(booking["id"]), "r-1")
    token = {"X-Manage-Token": booking["manage_token"]}
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=token).status_code == 200
    deadline = time.monotonic() + 10
    while not stored_notes(world, booking["id"]) and time.monotonic() < deadline:
        time.sleep(0.05)  # refund and credit note run on the bus after the relay publishes the cancellation
    deadline = time.monotonic() + 10
    while stored_notes(world, booking["id"])[0].status is not InvoiceStatus.AUTHORIZED and time.monotonic() < deadline:
        time.sleep(0.05)
    (note,) = stored_notes(world, booking["id"])
    assert note.status is InvoiceStatus.AUTHORIZED and note.total == Decimal("12000.00")


def test_class_b_credit_notes_carry_vat(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, iva=IvaCondition.RESPONSABLE_INSCRIPTO)
    booking_id = paid_booking(client, world)
    owner = staff_headers(client, alpha.owner_email)
    note = refund(client, owner, booking_id, "1210.00", "refund-b").json()["credit_note"]
    assert (note["status"], note["letter"], note["voucher_type"]) == ("authorized", "B", 8)
    assert (note["net"], note["vat"], note["total"]) == ("1000.00", "210.00", "1210.00")
    assert world.afip.vouchers[(CUIT, 3, 8)][0].credits == (3, 6, 1)


def applied_without_invoice(client: TestClient, world: PaymentWorld, start: str, phone: str) -> str:
    """A prepaid booking whose payment is applied as the webhook does, but with no invoice issued yet
    (as when AFIP was down at confirmation)."""
    booking = client.post("/api/v1/payments/checkout", json=body(world.tenant, start=start, phone=phone)).json()
    s = world.services
    applied = payment_notifications.process_notification(s.uows, world.owner(), s.gateway, world.mp.pay(booking["id"]))
    assert applied.outcome == "confirmed"
    return str(booking["id"])


def test_refunds_before_the_invoice_are_left_out_of_it(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    whole = applied_without_invoice(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    refund_directly(world, whole, None)
    with pytest.raises(PolicyViolation, match="nothing to invoice"):
        invoicing.invoice_booking(s.uows, ctx, s.tax_authority, s.lock, whole)
    assert invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, whole) is None

    part = applied_without_invoice(client, world, "2026-03-03T11:00:00-03:00", "+54 9 11 2345-0002")
    refund_directly(world, part, "2000.00", key="p")
    invoice = invoicing.invoice_booking(s.uows, ctx, s.tax_authority, s.lock, part)
    assert invoice is not None and invoice.status is InvoiceStatus.AUTHORIZED and invoice.total == Decimal("10000.00")
    assert invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, part) is None
    assert NOTA_C_KEY not in world.afip.vouchers


def test_an_invoice_authorised_after_a_refund_is_credited_then(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    booking_id = applied_without_invoice(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    draft = invoicing.draft_invoice(s.uows(alpha.tenant_id), ctx, booking_id)  # for 12,000, not sent yet
    refund_directly(world, booking_id, "2000.00")
    assert invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, booking_id) is None  # nothing authorised
    issued = invoicing.issue_invoice(s.uows, ctx, s.tax_authority(_profile(world)), s.lock, draft.id)
    assert issued.status is InvoiceStatus.AUTHORIZED and issued.total == Decimal("12000.00")
    note = invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, booking_id)
    assert note is not None and note.status is InvoiceStatus.AUTHORIZED and note.total == Decimal("2000.00")


def _profile(world: PaymentWorld):
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        return uow.tax_profiles.get()


def invoice_at_afip(client: TestClient, world: PaymentWorld) -> tuple[Any, Invoice, Any]:
    """A paid booking's authorised invoice, the fake AFIP's client for its issuer, and the
    request that numbered it (for the tests to send variations of it)."""
    booking_id = paid_booking(client, world)
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        invoice = uow.invoices.for_booking(booking_id)
    assert invoice is not None and invoice.number is not None
    authority = world.services.tax_authority(_profile(world))
    return authority, invoice, invoicing._request(invoice, 1, invoice.issue_date)


def test_concurrent_callers_draft_one_credit_note(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world, booking_id = paid_and_refunded(client, payment_world(platform, alpha, tmp_path), "3000.00")
    s, ctx = world.services, world.owner()
    barrier = threading.Barrier(6)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, booking_id))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [r for r in results if isinstance(r, Exception)], results
    (note,) = stored_notes(world, booking_id)
    assert note.status is InvoiceStatus.AUTHORIZED and note.total == Decimal("3000.00")
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1


def test_a_lost_answer_for_a_credit_note_is_recovered_without_a_duplicate(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world, booking_id = paid_and_refunded(client, payment_world(platform, alpha, tmp_path), "1000.00")
    s, ctx = world.services, world.owner()
    world.afip.lose_answers = 1
    note = invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, booking_id)
    assert note is not None and note.status is InvoiceStatus.AUTHORIZED and note.number == 1
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1


def test_afip_refuses_credit_notes_without_their_invoice_or_beyond_it(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    authority, invoice, note = invoice_at_afip(client, payment_world(platform, alpha, tmp_path))
    as_note = {"voucher_type": 13}

    orphan = authority.authorize(replace(note, **as_note))
    assert not orphan.approved and [m.code for m in orphan.observations] == [10152]
    associated = AssociatedVoucher(11, 3, invoice.number, CUIT, invoice.issue_date)
    too_much = replace(note, **as_note, total=Decimal("12000.01"), net=Decimal("12000.01"), associated=(associated,))
    refused = authority.authorize(too_much)
    assert not refused.approved and [m.code for m in refused.observations] == [10157]
    unknown = replace(note, **as_note, associated=(replace(associated, number=99),))
    assert [m.code for m in authority.authorize(unknown).observations] == [10154]
    invoice_with_association = replace(note, number=2, associated=(associated,))
    assert [m.code for m in authority.authorize(invoice_with_association).observations] == [10151]
    assert authority.authorize(replace(note, **as_note, associated=(associated,))).approved


def payment_detail(client: TestClient, headers: dict[str, str], booking_id: str) -> dict:
    return client.get(f"/api/v1/bookings/{booking_id}/payment", headers=headers).json()


def invoiced_payment(client: TestClient, world: PaymentWorld, **at: str) -> tuple[str, str]:
    """A paid, invoiced booking and its MercadoPago payment id."""
    booking_id = paid_booking(client, world, **at)
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        payment = uow.payments.for_booking(booking_id)
    assert payment is not None and payment.provider_payment_id is not None
    return booking_id, payment.provider_payment_id


def charge_back(client: TestClient, world: PaymentWorld, paid: str, detail: str) -> None:
    """MercadoPago reports the payment charged back (`detail`: in_process, settled, reimbursed)."""
    world.mp.set_status(paid, "charged_back", detail)
    assert notify(client, world, paid, f"r-{paid}-{detail}").status_code == 200


def test_a_chargeback_settled_against_the_shop_is_credited_once(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking_id, paid = invoiced_payment(client, world)
    owner = staff_headers(client, alpha.owner_email)

    # Opened by the card issuer: the money is held, nothing is credited yet.
    charge_back(client, world, paid, "in_process")
    detail = payment_detail(client, owner, booking_id)
    assert (detail["payment"]["status"], detail["payment"]["chargeback"]) == ("charged_back", "in_process")
    assert detail["credit_notes"] == [] and NOTA_C_KEY not in world.afip.vouchers
    # Staff cannot refund money the card issuer is holding.
    refused = refund(client, owner, booking_id, "1000.00", "refund-during-chargeback")
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert "charged-back" in refused.json()["detail"] and world.mp.payouts == []

    # Settled against the shop: the customer got everything back, so the whole invoice is credited.
    charge_back(client, world, paid, "settled")
    detail = payment_detail(client, owner, booking_id)
    assert detail["payment"]["chargeback"] == "settled"
    (note,) = detail["credit_notes"]
    assert (note["status"], note["voucher_type"], note["total"]) == ("authorized", 13, detail["invoice"]["total"])
    # The same notification again, and the reconciliation's pass: still one credit note.
    assert notify(client, world, paid, "r-settled-again").status_code == 200
    s = world.services
    assert invoicing.correct_invoice(s.uows, world.owner(), s.tax_authority, s.lock, booking_id) is None
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1
    actions = audit_actions(platform, alpha, booking_id)
    assert actions.count("BookingChargedBack") == 2  # opened, then settled


def test_a_chargeback_the_shop_wins_is_not_credited(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking_id, paid = invoiced_payment(client, world)
    owner = staff_headers(client, alpha.owner_email)
    charge_back(client, world, paid, "reimbursed")
    detail = payment_detail(client, owner, booking_id)
    assert detail["payment"]["chargeback"] == "reimbursed" and detail["credit_notes"] == []
    assert NOTA_C_KEY not in world.afip.vouchers
    # One settled against the shop with its credit note never drafted: the retry job's sweep finds
    # it by its amounts (the won one stays off the list).
    s = world.services
    lost, lost_paid = invoiced_payment(client, world, start="2026-03-03T11:00:00-03:00", phone="+54 9 11 2345-0002")
    world.mp.set_status(lost_paid, "charged_back", "settled")
    assert payment_notifications.process_notification(s.uows, world.owner(), s.gateway, lost_paid).outcome == (
        "charged_back"
    )
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert [i.booking_id for i in uow.invoices.uncorrected()] == [lost]
    (note,) = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock).corrected
    assert note.booking_id == lost and note.total == Decimal("12000.00")


def test_a_chargeback_won_after_its_credit_note_is_debited_back(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking_id, paid = invoiced_payment(client, world)
    owner = staff_headers(client, alpha.owner_email)
    charge_back(client, world, paid, "settled")
    invoice = payment_detail(client, owner, booking_id)["invoice"]
    (credit,) = payment_detail(client, owner, booking_id)["credit_notes"]
    assert credit["total"] == "12000.00"

    # Won on appeal: the money is the shop's again, so the credited invoice is debited back.
    charge_back(client, world, paid, "reimbursed")
    detail = payment_detail(client, owner, booking_id)
    assert detail["payment"]["chargeback"] == "reimbursed" and len(detail["credit_notes"]) == 1
    (debit,) = detail["debit_notes"]
    assert (debit["kind"], debit["status"], debit["letter"], debit["voucher_type"]) == (
        "debit_note",
        "authorized",
        "C",
        12,
    )
    assert (debit["number"], debit["total"], debit["credits_invoice_id"]) == (1, "12000.00", invoice["id"])
    (at_afip,) = world.afip.vouchers[DEBITO_C_KEY]
    assert at_afip.credits == (3, 11, invoice["number"]) and at_afip.total == Decimal("12000.00")
    assert audit_actions(platform, alpha, debit["id"]).count("DebitNoteDrafted") == 1

    # The notification again, and every later pass: nothing more is due either way.
    assert notify(client, world, paid, "r-reimbursed-again").status_code == 200
    s = world.services
    assert invoicing.correct_invoice(s.uows, world.owner(), s.tax_authority, s.lock, booking_id) is None
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert uow.invoices.uncorrected() == []
    assert len(world.afip.vouchers[DEBITO_C_KEY]) == 1 and len(world.afip.vouchers[NOTA_C_KEY]) == 1

    # Another shop's staff cannot read it; the shop's own prints it with the invoice it corrects.
    beta_owner = staff_headers(client, beta.owner_email, host="beta.example.com")
    crossed = client.get(debit["pdf_url"], headers=beta_owner | {"host": "beta.example.com"})
    assert crossed.status_code == 404
    name, text, qr = printed(client, owner, debit["pdf_url"])
    assert "nota-de-debito-C-00003-00000001" in name
    assert "NOTA DE D" in text and "COD. 012" in text and "Factura C 00003-00000001" in text
    assert (qr["tipoCmp"], qr["nroCmp"], qr["importe"]) == (12, 1, 12000.0)


def test_the_retry_job_debits_a_won_chargeback_whose_debit_note_was_never_drafted(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    booking_id, paid = invoiced_payment(client, world)
    charge_back(client, world, paid, "settled")  # credited in full through the webhook
    # Won later, applied by the reconciliation's own reading: nothing drafted the debit note.
    world.mp.set_status(paid, "charged_back", "reimbursed")
    assert payment_notifications.process_notification(s.uows, ctx, s.gateway, paid).outcome == "charged_back"
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert [i.booking_id for i in uow.invoices.uncorrected()] == [booking_id]

    (debit,) = invoicing.sweep_vouchers(s.uows, ctx, s.tax_authority, s.lock).corrected
    assert debit.is_debit_note and not debit.is_credit_note and debit.booking_id == booking_id
    assert (debit.status, debit.voucher_type, debit.total) == (InvoiceStatus.AUTHORIZED, 12, Decimal("12000.00"))
    assert invoicing.sweep_vouchers(s.uows, ctx, s.tax_authority, s.lock) == NOTHING_SWEPT


def test_afip_checks_debit_notes_and_credits_against_them(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    authority, invoice, base = invoice_at_afip(client, payment_world(platform, alpha, tmp_path))
    associated = AssociatedVoucher(11, 3, invoice.number, CUIT, invoice.issue_date)

    orphan = authority.authorize(replace(base, voucher_type=12))
    assert [m.code for m in orphan.observations] == [10152]
    wrong_class = authority.authorize(replace(base, voucher_type=7, associated=(associated,)))
    assert not wrong_class.approved and 10153 in [m.code for m in wrong_class.observations]
    # Credit the invoice in full, debit it back: then it can be credited again, never beyond.
    assert authority.authorize(replace(base, voucher_type=13, associated=(associated,))).approved
    assert authority.authorize(replace(base, voucher_type=12, associated=(associated,))).approved
    too_much = replace(base, voucher_type=13, number=2, total=Decimal("12000.01"), net=Decimal("12000.01"))
    refused = authority.authorize(replace(too_much, associated=(associated,)))
    assert [m.code for m in refused.observations] == [10157]
    assert authority.authorize(replace(base, voucher_type=13, number=2, associated=(associated,))).approved


def test_a_chargeback_before_the_invoice_is_left_out_of_it(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    settled = applied_without_invoice(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    held = applied_without_invoice(client, world, "2026-03-03T11:00:00-03:00", "+54 9 11 2345-0002")
    for booking_id, detail in ((settled, "settled"), (held, "in_process")):
        with s.uows(alpha.tenant_id, write=False) as uow:
            payment = uow.payments.for_booking(booking_id)
        assert payment is not None and payment.provider_payment_id is not None
        world.mp.set_status(payment.provider_payment_id, "charged_back", detail)
        applied = payment_notifications.process_notification(s.uows, ctx, s.gateway, payment.provider_payment_id)
        assert applied.outcome == "charged_back"
    with pytest.raises(PolicyViolation, match="nothing to invoice"):
        invoicing.invoice_booking(s.uows, ctx, s.tax_authority, s.lock, settled)
    # An open chargeback has not returned the money yet: the sale is invoiced in full.
    invoice = invoicing.invoice_booking(s.uows, ctx, s.tax_authority, s.lock, held)
    assert invoice is not None and invoice.status is InvoiceStatus.AUTHORIZED and invoice.total == Decimal("12000.00")


def test_staff_retry_a_credit_note_afip_rejected(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    booking_id = paid_booking(client, world)
    owner = staff_headers(client, alpha.owner_email)
    world.afip.refuse_next = [Message(10015, "Punto de venta no habilitado para el comprobante")]
    made = refund(client, owner, booking_id, "4000.00", "refund-rejected")
    assert made.status_code == 201
    rejected = made.json()["credit_note"]
    assert rejected["status"] == "rejected" and rejected["number"] is None
    assert not world.afip.vouchers.get(NOTA_C_KEY)

    # Another shop's staff cannot reach it; then the shop's own retry issues it, once.
    beta_owner = staff_headers(client, beta.owner_email, host="beta.example.com")
    crossed = client.post(
        f"/api/v1/bookings/{booking_id}/credit-note", headers=beta_owner | {"host": "beta.example.com"}
    )
    assert crossed.status_code == 404 and crossed.headers["content-type"] == "application/problem+json"
    retried = client.post(f"/api/v1/bookings/{booking_id}/credit-note", headers=owner)
    assert retried.status_code == 200, retried.text
    note = retried.json()
    assert (note["id"], note["status"], note["number"], note["total"]) == (rejected["id"], "authorized", 1, "4000.00")
    assert audit_actions(platform, alpha, note["id"]).count("InvoiceRetried") == 1
    again = client.post(f"/api/v1/bookings/{booking_id}/credit-note", headers=owner)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "booking_id"
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1


def test_the_retry_job_credits_refunds_whose_credit_note_was_never_drafted(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    # Refunded after invoicing, but the credit note was never drafted (as if the database went
    # down between the refund and the drafting): nothing else will ever call for it.
    forgotten = paid_booking(client, world)
    refund_directly(world, forgotten, "2500.00")
    # Beside it: a booking already credited and one invoiced with nothing returned.
    credited = paid_booking(client, world, start="2026-03-03T11:00:00-03:00", phone="+54 9 11 2345-0002")
    refund_directly(world, credited, "1000.00", key="k2")
    assert invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, credited) is not None
    untouched = applied_without_invoice(client, world, "2026-03-03T12:00:00-03:00", "+54 9 11 2345-0003")
    assert invoicing.invoice_booking(s.uows, ctx, s.tax_authority, s.lock, untouched) is not None
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert [i.booking_id for i in uow.invoices.uncorrected()] == [forgotten]
    with s.uows(beta.tenant_id, write=False) as uow:
        assert uow.invoices.uncorrected() == []  # another tenant's money is not its business

    (note,) = invoicing.sweep_vouchers(s.uows, ctx, s.tax_authority, s.lock).corrected
    assert note.booking_id == forgotten and note.status is InvoiceStatus.AUTHORIZED
    assert note.total == Decimal("2500.00")
    assert invoicing.sweep_vouchers(s.uows, ctx, s.tax_authority, s.lock) == NOTHING_SWEPT  # nothing twice
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 2


def test_the_retry_job_leaves_rejected_notes_and_shop_payments_alone(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s, ctx = world.services, world.owner()
    booking_id = paid_booking(client, world)
    refund_directly(world, booking_id, "3000.00")
    world.afip.refuse_next = [Message(10015, "Punto de venta no habilitado para el comprobante")]
    rejected = invoicing.correct_invoice(s.uows, ctx, s.tax_authority, s.lock, booking_id)
    assert rejected is not None and rejected.status is InvoiceStatus.REJECTED
    # Staff decide about a rejection (POST /bookings/{id}/credit-note); the job does not resend it.
    assert invoicing.sweep_vouchers(s.uows, ctx, s.tax_authority, s.lock) == NOTHING_SWEPT
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert uow.invoices.uncorrected() == []


def test_the_credit_note_route_resends_a_rejected_invoice_then_credits_the_refund(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    world.afip.refuse_next = [Message(10015, "Punto de venta no habilitado para el comprobante")]
    booking_id = paid_booking(client, world)  # the invoice drafted at confirmation is rejected
    owner = staff_headers(client, alpha.owner_email)
    assert payment_detail(client, owner, booking_id)["invoice"]["status"] == "rejected"
    made = refund(client, owner, booking_id, "3000.00", "refund-before-authorised")
    assert made.status_code == 201 and made.json()["credit_note"] is None  # nothing authorised to credit yet

    sent = client.post(f"/api/v1/bookings/{booking_id}/credit-note", headers=owner)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["total"], sent.json()["number"]) == ("authorized", "3000.00", 1)
    detail = payment_detail(client, owner, booking_id)
    assert (detail["invoice"]["status"], detail["invoice"]["total"]) == ("authorized", "12000.00")
    assert [n["total"] for n in detail["credit_notes"]] == ["3000.00"]
