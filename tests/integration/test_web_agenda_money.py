"""The agenda shows each booking's money: payment, invoice and credit and debit notes, with their PDFs.

Read in three batch queries for the whole day; authorised vouchers link to their PDF, which
the staff session cookie opens; rejections and chargebacks are marked for attention.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from test_credit_notes import NOTA_C_KEY, charge_back, invoiced_payment, refund
from test_payments_flow import body
from test_payments_support import payment_world
from test_web_staff import log_in

from barberpro.application.payment_ports import Message
from barberpro.bootstrap import Platform
from conftest import staff_headers
from platform_fixtures import TenantFixture

DAY = "2026-03-03"


def booking_card(page: str, booking_id: str) -> str:
    found = re.search(rf'<article [^>]*data-booking="{booking_id}">(.*?)</article>', page, re.S)
    assert found is not None, booking_id
    return found.group(1)


def test_the_agenda_shows_payments_invoices_and_credit_notes(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    refunded, _ = invoiced_payment(client, world)
    assert refund(client, owner, refunded, "2000.00", "agenda-refund").status_code == 201
    charged, paid = invoiced_payment(client, world, start=f"{DAY}T11:00:00-03:00", phone="+54 9 11 2345-0002")
    charge_back(client, world, paid, "in_process")
    rejected, _ = invoiced_payment(client, world, start=f"{DAY}T12:00:00-03:00", phone="+54 9 11 2345-0003")
    world.afip.refuse_next = [Message(10015, "Punto de venta no habilitado para el comprobante")]
    assert refund(client, owner, rejected, "500.00", "agenda-rejected").json()["credit_note"]["status"] == "rejected"
    unpaid = client.post(
        "/api/v1/payments/checkout", json=body(alpha, start=f"{DAY}T14:00:00-03:00", phone="+54 9 11 2345-0004")
    ).json()["id"]

    log_in(client, alpha.owner_email)
    page = client.get(f"/staff/agenda?fecha={DAY}")
    assert page.status_code == 200

    card = booking_card(page.text, refunded)
    assert "Pagado $ 12.000,00 · devuelto $ 2.000,00" in card
    links = dict(re.findall(r'<a href="(/api/v1/invoices/[^"]+/pdf)"[^>]*>([^<]+?) <span', card))
    assert sorted(links.values()) == ["Factura C 00003-00000001", "Nota de crédito C 00003-00000001"]
    assert 'class="money"' in card  # nothing for staff to act on
    for url in links:
        pdf = client.get(url)  # the staff session cookie authorises the download
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"

    card = booking_card(page.text, charged)
    assert "Contracargo en curso" in card and 'class="money attention"' in card
    card = booking_card(page.text, rejected)
    assert "Nota de crédito C: rechazada por AFIP" in card and 'class="money attention"' in card
    assert "Pago pendiente ($ 12.000,00)" in booking_card(page.text, unpaid)


def test_the_agenda_shows_a_chargeback_won_back_with_its_debit_note(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    won, paid = invoiced_payment(client, world, start=f"{DAY}T10:00:00-03:00")
    charge_back(client, world, paid, "settled")
    charge_back(client, world, paid, "reimbursed")
    log_in(client, alpha.owner_email)
    card = booking_card(client.get(f"/staff/agenda?fecha={DAY}").text, won)
    assert "Contracargo ganado" in card
    links = dict(re.findall(r'<a href="(/api/v1/invoices/[^"]+/pdf)"[^>]*>([^<]+?) <span', card))
    assert sorted(links.values()) == [
        "Factura C 00003-00000001",
        "Nota de crédito C 00003-00000001",
        "Nota de débito C 00003-00000001",
    ]
    for url in links:
        assert client.get(url).status_code == 200


def test_the_agenda_without_payments_shows_no_money(client: TestClient, alpha: TenantFixture) -> None:
    created = client.post("/api/v1/bookings", json=body(alpha, start=f"{DAY}T10:00:00-03:00"))
    assert created.status_code == 201, created.text
    log_in(client, alpha.owner_email)
    page = client.get(f"/staff/agenda?fecha={DAY}")
    card = booking_card(page.text, created.json()["id"])
    assert "Cobro y comprobantes" not in card and "Ana Pérez" in card


def test_staff_resend_a_rejected_credit_note_from_the_agenda(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    booking_id, _ = invoiced_payment(client, world)
    refused = [Message(10015, "Punto de venta no habilitado para el comprobante")]
    world.afip.refuse_next = list(refused)
    assert refund(client, owner, booking_id, "500.00", "agenda-resend").json()["credit_note"]["status"] == "rejected"
    csrf = log_in(client, alpha.owner_email)
    card = booking_card(client.get(f"/staff/agenda?fecha={DAY}").text, booking_id)
    action = f"/staff/agenda/turnos/{booking_id}/reenviar-afip"
    assert f'action="{action}"' in card and "Reenviar a AFIP" in card
    form = {"local": alpha.shop_id, "fecha": DAY}

    assert client.post(action, data=form | {"csrf": "forged"}).status_code == 403
    world.afip.refuse_next = list(refused)  # the cause is not dealt with yet: AFIP refuses again
    again = client.post(action, data=form | {"csrf": csrf})
    assert again.status_code == 409 and "AFIP volvió a rechazar el comprobante" in again.text
    assert not world.afip.vouchers.get(NOTA_C_KEY)

    sent = client.post(action, data=form | {"csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("aviso=afip")
    page = client.get(sent.headers["location"])
    assert "Comprobante autorizado por AFIP." in page.text
    card = booking_card(page.text, booking_id)
    assert "Nota de crédito C 00003-00000001" in card and "Reenviar a AFIP" not in card
    assert len(world.afip.vouchers[NOTA_C_KEY]) == 1
    nothing = client.post(action, data=form | {"csrf": csrf})
    assert nothing.status_code == 409  # nothing of the booking is rejected any more
