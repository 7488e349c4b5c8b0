"""The customer-data export reads each kind of per-booking record in one query, whatever the number of bookings.

A regular customer has hundreds of bookings; reading payment, invoice, review and cancellation one
booking at a time would cost hundreds of round trips inside the export's transaction. The batch
reads must return exactly what the one-booking reads return, and only this tenant's rows.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWork
from barberpro.application import customer_data
from barberpro.application.bookings import BookAppointment, CustomerDetails, book_appointment, cancel_booking
from barberpro.application.context import Context
from barberpro.application.customer_data import export_customer_data
from barberpro.application.payment_ports import Invoice, InvoiceStatus, Payment, PaymentStatus
from barberpro.application.ports import AuditEntry
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Review, Role
from barberpro.domain.identifiers import new_id
from platform_fixtures import TenantFixture

BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
# Ten 30-minute slots a day (plus the 10-minute buffer), clear of the 13-14 lunch break.
# Voucher numbers are unique per CUIT across tenants (a clash would be dropped silently by invoices.add).
_NUMBERS = itertools.count(1)
SLOTS = [(9, 0), (9, 45), (10, 30), (11, 15), (12, 0), (14, 0), (14, 45), (15, 30), (16, 15), (17, 0)]


def _owner(platform: Platform, tenant: TenantFixture) -> Context:
    return Context(tenant.tenant_id, Actor(ActorKind.STAFF, tenant.owner_id, Role.OWNER), "test", platform.clock.now())


def _uow(platform: Platform, tenant: TenantFixture) -> SqlPaymentsUnitOfWork:
    return SqlPaymentsUnitOfWork(platform.database, tenant.tenant_id)


def _payment(tenant: TenantFixture, booking_id: str, created_at: datetime, status: PaymentStatus) -> Payment:
    paid = Decimal("12000.00") if status is PaymentStatus.APPROVED else Decimal("0.00")
    return Payment(id=new_id(), tenant_id=tenant.tenant_id, booking_id=booking_id, amount=Decimal("12000.00"),
                   status=status, hold_until=created_at, created_at=created_at, updated_at=created_at,
                   paid_amount=paid)  # fmt: skip


def _invoice(tenant: TenantFixture, booking_id: str, number: int, now: datetime) -> Invoice:
    return Invoice(id=new_id(), tenant_id=tenant.tenant_id, booking_id=booking_id, cuit="20123456786",
                   point_of_sale=3, voucher_type=11, status=InvoiceStatus.AUTHORIZED, issue_date=date(2026, 3, 3),
                   service_from=date(2026, 3, 3), service_to=date(2026, 3, 3), doc_type=99, doc_number="0",
                   receiver_iva_condition=5, receiver_name="Cliente", description="Corte",
                   total=Decimal("12000.00"), net=Decimal("12000.00"), vat=Decimal("0.00"), created_at=now,
                   updated_at=now, number=number, cae=f"7412345678{number:04d}",
                   cae_due=date(2026, 3, 13))  # fmt: skip


def _customer_with_bookings(
    platform: Platform, tenant: TenantFixture, count: int, phone: str, first_day: int
) -> tuple[str, list[str]]:
    """`count` bookings of one customer: every 4th cancelled (some with a second cancellation entry
    in the audit log), every 3rd paid (some with several payments, one pair created at the same
    instant), every 2nd invoiced, every 5th reviewed."""
    owner = _owner(platform, tenant)
    details = CustomerDetails(name=f"Cliente {phone[-4:]}", phone=phone, email=f"c{phone[-4:]}@example.com")
    ids: list[str] = []
    for index in range(count):
        day, (hour, minute) = first_day + index // len(SLOTS), SLOTS[index % len(SLOTS)]
        start = datetime(2026, 3, day, hour, minute, tzinfo=BUENOS_AIRES)
        barber = tenant.barber_ids[index % len(tenant.barber_ids)]
        command = BookAppointment(tenant.shop_id, tenant.service_id, barber, start, details)
        ids.append(book_appointment(platform.uow(tenant.tenant_id), owner, command).booking.id)
    for index in range(0, count, 4):
        cancel_booking(platform.uow(tenant.tenant_id), owner, ids[index], "no puede venir")
    now = platform.clock.now()
    with _uow(platform, tenant) as uow:
        for index in range(0, count, 8):  # a later entry must not replace the first one
            uow.audit.add(AuditEntry(new_id(), tenant.tenant_id, "system", "BookingCancelled", "booking", ids[index],
                                     None, None, "test", now + timedelta(hours=5)))  # fmt: skip
        for index in range(0, count, 3):
            uow.payments.add(_payment(tenant, ids[index], now, PaymentStatus.APPROVED))
            if index % 2 == 0:  # an older, expired attempt and a tie at the newest instant
                uow.payments.add(_payment(tenant, ids[index], now - timedelta(hours=1), PaymentStatus.EXPIRED))
                uow.payments.add(_payment(tenant, ids[index], now, PaymentStatus.PENDING))
        for index in range(0, count, 2):
            uow.invoices.add(_invoice(tenant, ids[index], next(_NUMBERS), now))
        for index in range(0, count, 5):
            barber = tenant.barber_ids[index % len(tenant.barber_ids)]
            review = Review(new_id(), tenant.tenant_id, tenant.shop_id, ids[index], barber, 4 + index % 2,
                            f"Visita {index}", now)  # fmt: skip
            uow.reviews.add(review)
        uow.commit()
        booking = uow.bookings.get(ids[0])
    assert booking is not None and booking.customer_id is not None
    return booking.customer_id, ids


@contextmanager
def _statements(platform: Platform) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)

    engine = platform.database.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _export(platform: Platform, tenant: TenantFixture, customer_id: str) -> dict[str, Any]:
    return export_customer_data(_uow(platform, tenant), _owner(platform, tenant), customer_id)


def test_export_statements_do_not_grow_with_the_bookings(platform: Platform, alpha: TenantFixture) -> None:
    few, few_ids = _customer_with_bookings(platform, alpha, 3, "+54 9 11 4100-0003", first_day=3)
    many, many_ids = _customer_with_bookings(platform, alpha, 30, "+54 9 11 4100-0030", first_day=4)
    _export(platform, alpha, few)  # connection set-up and statement caches warm, outside the count
    with _statements(platform) as for_few:
        few_document = _export(platform, alpha, few)
    with _statements(platform) as for_many:
        many_document = _export(platform, alpha, many)
    assert [v["id"] for v in few_document["turnos"]] == few_ids
    assert sorted(v["id"] for v in many_document["turnos"]) == sorted(many_ids)
    kinds = ("cancelado", "pago", "factura", "reseña")
    assert all(any(v[k] is not None for v in many_document["turnos"]) for k in kinds)
    assert all(any(v[k] is None for v in many_document["turnos"]) for k in kinds)
    assert len(for_few) == len(for_many), (for_few, for_many)


def test_export_is_what_the_one_booking_reads_give(platform: Platform, alpha: TenantFixture) -> None:
    """Each booking's entry equals what reading its cancellation, payment, invoice and review one by one gives,
    down to the bytes of the JSON file (same keys, same order, same values)."""
    customer, ids = _customer_with_bookings(platform, alpha, 30, "+54 9 11 4100-0030", first_day=3)
    document = _export(platform, alpha, customer)
    expected = []
    with _uow(platform, alpha) as uow:
        for visit in document["turnos"]:
            trail = uow.audit.list(entity_id=visit["id"], action="BookingCancelled", limit=1)
            expected.append(visit | {
                "cancelado": customer_data._local(trail[0].occurred_at) if trail else None,
                "pago": customer_data._payment(uow.payments.for_booking(visit["id"])),
                "factura": customer_data._invoice(uow.invoices.for_booking(visit["id"])),
                "reseña": customer_data._review(uow.reviews.by_booking(visit["id"])),
            })  # fmt: skip
    rendered = json.dumps(document["turnos"], ensure_ascii=False, indent=2)
    assert rendered == json.dumps(expected, ensure_ascii=False, indent=2)
    assert list(document["turnos"][0]) == ["id", "local", "servicio", "barbero", "inicio", "fin", "estado",
                                           "precio", "notas", "reservado", "cancelado", "pago", "factura",
                                           "reseña"]  # fmt: skip
    paid_twice = {v["id"]: v for v in document["turnos"]}[ids[0]]
    assert paid_twice["pago"] is not None and paid_twice["pago"]["estado"] in {"approved", "pending"}
    assert paid_twice["cancelado"] == customer_data._local(platform.clock.now())  # the first entry, not the later


def test_batch_reads_match_the_one_booking_reads(platform: Platform, alpha: TenantFixture) -> None:
    _, ids = _customer_with_bookings(platform, alpha, 12, "+54 9 11 4100-0012", first_day=3)
    with _uow(platform, alpha) as uow:
        for booking_id in ids:
            one = [booking_id]
            payment = uow.payments.for_booking(booking_id)
            assert uow.payments.for_bookings(one) == ({booking_id: payment} if payment else {})
            invoice = uow.invoices.for_booking(booking_id)
            assert uow.invoices.for_bookings(one) == ({booking_id: invoice} if invoice else {})
            review = uow.reviews.by_booking(booking_id)
            assert uow.reviews.by_bookings(one) == ({booking_id: review} if review else {})
            trail = uow.audit.list(entity_id=booking_id, action="BookingCancelled", limit=1)
            assert uow.audit.first_per_entity(one, "BookingCancelled") == ({booking_id: trail[0]} if trail else {})
        # More ids than one IN (...) takes: the real ones spread over three chunks, unknown ids ignored.
        padded = [new_id() for _ in range(1200)]
        for position, booking_id in zip(range(0, 1200, 100), ids, strict=True):
            padded[position] = booking_id
        with _statements(platform) as seen:
            payments = uow.payments.for_bookings(padded)
        assert len(seen) == 3
        assert payments == {i: p for i in ids if (p := uow.payments.for_booking(i)) is not None}
        assert uow.invoices.for_bookings(padded) == {i: v for i in ids if (v := uow.invoices.for_booking(i))}
        assert uow.reviews.by_bookings(padded) == {i: r for i in ids if (r := uow.reviews.by_booking(i))}
        cancelled = uow.audit.first_per_entity(padded + ids, "BookingCancelled")
        assert cancelled == {
            i: trail[0] for i in ids if (trail := uow.audit.list(entity_id=i, action="BookingCancelled", limit=1))
        }
        assert len(payments) == 4 and len(cancelled) == 3
        with _statements(platform) as seen:
            assert uow.payments.for_bookings([]) == {}
            assert uow.invoices.for_bookings([]) == {}
            assert uow.reviews.by_bookings([]) == {}
            assert uow.audit.first_per_entity([], "BookingCancelled") == {}
        assert seen == []


def test_batch_reads_stay_in_their_tenant(platform: Platform, alpha: TenantFixture, beta: TenantFixture) -> None:
    _, alpha_ids = _customer_with_bookings(platform, alpha, 8, "+54 9 11 4100-0008", first_day=3)
    _, beta_ids = _customer_with_bookings(platform, beta, 8, "+54 9 11 4100-0008", first_day=3)
    with _uow(platform, beta) as uow:
        assert uow.payments.for_bookings(beta_ids) and uow.invoices.for_bookings(beta_ids)
        assert uow.reviews.by_bookings(beta_ids) and uow.audit.first_per_entity(beta_ids, "BookingCancelled")
    with _uow(platform, alpha) as uow:
        assert uow.payments.for_bookings(beta_ids) == {}
        assert uow.invoices.for_bookings(beta_ids) == {}
        assert uow.reviews.by_bookings(beta_ids) == {}
        assert uow.audit.first_per_entity(beta_ids, "BookingCancelled") == {}
        both = alpha_ids + beta_ids
        assert set(uow.payments.for_bookings(both)) == {alpha_ids[0], alpha_ids[3], alpha_ids[6]}
        assert set(uow.invoices.for_bookings(both)) == set(alpha_ids[::2])
        assert set(uow.reviews.by_bookings(both)) == {alpha_ids[0], alpha_ids[5]}
        assert set(uow.audit.first_per_entity(both, "BookingCancelled")) == {alpha_ids[0], alpha_ids[4]}
        assert all(p.tenant_id == alpha.tenant_id for p in uow.payments.for_bookings(both).values())
