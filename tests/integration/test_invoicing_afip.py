"""Electronic invoices against the fake AFIP, on each database: numbering, lost answers, rejections, WSAA."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_payments_support import CUIT, PaymentWorld, dev_ca, payment_world, taxpayer_key

from barberpro.adapters.invoicing.certificates import DevAuthority, certificate_request, key_pem, new_key
from barberpro.adapters.invoicing.fake_afip.service import FakeAfip
from barberpro.adapters.invoicing.wsaa import WsaaClient, WsaaError
from barberpro.application import invoicing
from barberpro.application.bookings import BookAppointment, CustomerDetails, book_appointment
from barberpro.application.payment_ports import InvoiceStatus, IvaCondition, PaymentMode
from barberpro.bootstrap import Platform
from barberpro.domain.errors import PolicyViolation
from platform_fixtures import TenantFixture

BA = ZoneInfo("America/Argentina/Buenos_Aires")


@pytest.fixture
def world(platform: Platform, alpha: TenantFixture, tmp_path: Path) -> PaymentWorld:
    return payment_world(platform, alpha, tmp_path, mode=PaymentMode.NONE)


def confirmed_bookings(world: PaymentWorld, count: int, *, dni: str | None = None) -> list[str]:
    """`count` confirmed bookings of one barber, across the week (paid at the shop: invoiced at price)."""
    ids = []
    for index in range(count):
        day, hour = 3 + index // 6, 9 + index % 6 + (1 if index % 6 >= 4 else 0)  # skip the 13:00 lunch
        start = datetime(2026, 3, day, hour, 0, tzinfo=BA)
        cmd = BookAppointment(
            world.tenant.shop_id,
            world.tenant.service_id,
            world.tenant.barber_ids[0],
            start,
            CustomerDetails(f"Cliente {index}", f"+54 9 11 4000-{index:04d}", f"c{index}@example.com", dni),
        )
        ids.append(book_appointment(world.platform.uow(world.tenant.tenant_id), world.owner(), cmd).booking.id)
    return ids


def issue(world: PaymentWorld, booking_id: str, receiver: invoicing.Receiver | None = None):
    s = world.services
    return invoicing.invoice_booking(s.uows, world.owner(), s.tax_authority, s.lock, booking_id, receiver)


def test_twenty_concurrent_invoices_get_twenty_consecutive_numbers(world: PaymentWorld) -> None:
    bookings = confirmed_bookings(world, 20)
    results: dict[str, object] = {}
    barrier = threading.Barrier(20)

    def run(booking_id: str) -> None:
        barrier.wait()
        try:
            results[booking_id] = issue(world, booking_id)
        except Exception as error:
            results[booking_id] = error

    threads = [threading.Thread(target=run, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    invoices = list(results.values())
    assert all(getattr(i, "status", None) is InvoiceStatus.AUTHORIZED for i in invoices), invoices
    assert sorted(i.number for i in invoices) == list(range(1, 21))  # type: ignore[attr-defined]
    assert [v.number for v in world.afip.vouchers[(CUIT, 3, 11)]] == list(range(1, 21))
    assert world.afip.logins == 1  # one WSAA ticket shared by all


def test_a_lost_answer_is_recovered_without_a_duplicate(world: PaymentWorld) -> None:
    first, second = confirmed_bookings(world, 2)
    world.afip.lose_answers = 1  # AFIP authorises, the answer never arrives
    invoice = issue(world, first)
    assert invoice is not None and invoice.status is InvoiceStatus.AUTHORIZED and invoice.number == 1
    stored = world.afip.vouchers[(CUIT, 3, 11)]
    assert len(stored) == 1 and invoice.cae == stored[0].cae
    again = issue(world, first)  # a retry of an authorised invoice changes nothing
    assert again is not None and again.number == 1 and len(world.afip.vouchers[(CUIT, 3, 11)]) == 1
    nxt = issue(world, second)
    assert nxt is not None and nxt.number == 2


def test_an_invoice_left_sending_is_settled_before_numbering_anew(world: PaymentWorld) -> None:
    first, second = confirmed_bookings(world, 2)
    s = world.services
    draft = invoicing.draft_invoice(s.uows(world.tenant.tenant_id), world.owner(), first)
    # A crash after AFIP authorised number 1 but before we recorded it: the row says SENDING.
    authority = s.tax_authority(_profile(world))
    request = invoicing._request(draft, 1, draft.issue_date)
    assert authority.authorize(request).approved
    with s.uows(world.tenant.tenant_id) as uow:
        uow.invoices.update(replace(draft, status=InvoiceStatus.SENDING, number=1))
        uow.commit()
    nxt = issue(world, second)
    assert nxt is not None and nxt.number == 2
    with s.uows(world.tenant.tenant_id, write=False) as uow:
        settled = uow.invoices.for_booking(first)
    assert settled is not None and settled.status is InvoiceStatus.AUTHORIZED and settled.number == 1


def _profile(world: PaymentWorld):
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        return uow.tax_profiles.get()


def test_rejections_keep_afip_observations_and_release_the_number(
    platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path, mode=PaymentMode.NONE, iva=IvaCondition.RESPONSABLE_INSCRIPTO)
    bad, good = confirmed_bookings(world, 2, dni="30123456")
    # A receiver AFIP refuses for Factura A (no CUIT), as if typed in wrong by staff.
    wrong = invoicing.Receiver(96, "30123456", invoicing.RECEIVER_RI, "Empresa SA")
    rejected = issue(world, bad, wrong)
    assert rejected is not None and rejected.status is InvoiceStatus.REJECTED and rejected.number is None
    assert 10243 in {o["code"] for o in rejected.observations}
    assert rejected.voucher_type == invoicing.FACTURA_A
    ok = issue(world, good)  # consumidor final with DNI: Factura B, 21 % VAT included
    assert ok is not None and ok.status is InvoiceStatus.AUTHORIZED and ok.number == 1
    assert ok.voucher_type == invoicing.FACTURA_B and ok.doc_type == 96
    assert (ok.net, ok.vat, ok.total) == (Decimal("9917.36"), Decimal("2082.64"), Decimal("12000.00"))
    fixed = invoicing.retry_rejected(
        world.services.uows(alpha.tenant_id),
        world.owner(),
        rejected.id,
        invoicing.Receiver.checked(doc_type=80, doc_number="30500010912", iva_condition=1, name="Empresa SA"),
    )
    assert fixed.status is InvoiceStatus.DRAFT
    done = issue(world, bad)
    assert done is not None and done.status is InvoiceStatus.AUTHORIZED and done.number == 1
    assert done.voucher_type == invoicing.FACTURA_A and done.net + done.vat == done.total


def test_an_unidentified_consumer_above_the_limit_is_refused(world: PaymentWorld) -> None:
    (booking,) = confirmed_bookings(world, 1)
    with world.platform.uow(world.tenant.tenant_id) as uow:
        from sqlalchemy import update

        from barberpro.adapters.db import tables as t

        uow._connection.execute(  # type: ignore[attr-defined]
            update(t.bookings).where(t.bookings.c.id == booking).values(price=Decimal("10000000.00"))
        )
        uow.commit()
    with pytest.raises(PolicyViolation):
        issue(world, booking)


def test_wsaa_ticket_is_cached_durably_and_a_second_login_is_refused(world: PaymentWorld) -> None:
    s = world.services
    profile = _profile(world)
    assert profile is not None

    def client() -> WsaaClient:  # a fresh process: nothing in memory
        return WsaaClient(
            tenant_id=profile.tenant_id,
            cuit=profile.cuit,
            environment=profile.environment,
            certificate_pem=profile.certificate_pem.encode(),
            key_pem=taxpayer_key(),
            uows=s.uows,
            lock=s.lock,
            clock=world.platform.clock.now,
            url=s.environment.afip_wsaa_url,
            transport=world.afip.transport(),
        )

    first = client().ticket()
    second = client().ticket()
    assert first == second and world.afip.logins == 1
    # Losing the cache while AFIP still holds a valid ticket is an outage, reported clearly.
    with s.uows(profile.tenant_id) as uow:
        from sqlalchemy import delete

        from barberpro.adapters.db import tables as t

        uow._connection.execute(delete(t.wsaa_tickets))  # type: ignore[attr-defined]
        uow.commit()
    with pytest.raises(WsaaError, match="alreadyAuthenticated"):
        client().ticket()
    world.platform.clock.advance(timedelta(hours=12, minutes=1))  # type: ignore[attr-defined]
    assert client().ticket() != first and world.afip.logins == 2


def test_wsaa_refuses_a_certificate_from_another_authority(world: PaymentWorld, tmp_path: Path) -> None:
    stranger = DevAuthority.create(world.platform.clock.now(), name="Not AFIP")
    key = new_key()
    certificate = stranger.issue(
        certificate_request(key, cuit=CUIT, organization="X", alias="x"), world.platform.clock.now()
    )
    client = WsaaClient(
        tenant_id=world.tenant.tenant_id,
        cuit=CUIT,
        environment="homologacion",
        certificate_pem=certificate,
        key_pem=key_pem(key),
        uows=world.services.uows,
        lock=world.services.lock,
        clock=world.platform.clock.now,
        url="https://wsaahomo.test/ws/services/LoginCms",
        transport=FakeAfip(dev_ca().certificate, clock=world.platform.clock.now).transport(),
    )
    with pytest.raises(WsaaError, match=r"cms\.sign\.invalid"):
        client.ticket()


def test_another_system_numbering_on_the_point_of_sale_is_caught_up(world: PaymentWorld) -> None:
    first, second = confirmed_bookings(world, 2)
    assert issue(world, first).number == 1  # type: ignore[union-attr]
    s = world.services
    draft = invoicing.draft_invoice(s.uows(world.tenant.tenant_id), world.owner(), second)
    # Another invoicing program of the same business issues number 2 on our point of sale.
    outsider = s.tax_authority(_profile(world))
    assert outsider.authorize(invoicing._request(draft, 2, draft.issue_date)).approved
    ours = issue(world, second)
    assert ours is not None and ours.status is InvoiceStatus.AUTHORIZED and ours.number == 3
    assert [v.number for v in world.afip.vouchers[(CUIT, 3, 11)]] == [1, 2, 3]
