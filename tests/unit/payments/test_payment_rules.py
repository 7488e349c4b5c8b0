"""Money rules of prepaid bookings: amounts due, refunds by policy, and how gateway states are applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from barberpro.application.payment_notifications import _next_state
from barberpro.application.payment_ports import (
    Chargeback,
    GatewayPayment,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMode,
    PaymentStatus,
    ShopPaymentSettings,
)
from barberpro.application.payments import amount_due, refund_due
from barberpro.domain.booking import Booking, BookingStatus

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
prices = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("999999.99"), places=2)


def booking(status: BookingStatus = BookingStatus.PENDING_PAYMENT, start_in: timedelta = timedelta(days=1)) -> Booking:
    start = NOW + start_in
    return Booking(
        "b1",
        "t1",
        "s1",
        "barber",
        "svc",
        "c1",
        start,
        start + timedelta(minutes=30),
        start + timedelta(minutes=40),
        status,
        Decimal("12000.00"),
        NOW,
    )


def payment(**changes: object) -> Payment:
    base = Payment("p1", "t1", "b1", Decimal("12000.00"), PaymentStatus.PENDING, NOW + timedelta(minutes=15), NOW, NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def gateway(
    status: str, amount: str = "12000.00", refunded: str = "0", at: timedelta = timedelta(0), detail: str = ""
) -> GatewayPayment:
    return GatewayPayment("mp1", status, detail or status, "b1", Decimal(amount), Decimal(refunded), NOW + at)


@given(price=prices, percent=st.integers(1, 100))
def test_deposit_is_a_rounded_share_never_above_the_price(price: Decimal, percent: int) -> None:
    due = amount_due(ShopPaymentSettings("s1", PaymentMode.DEPOSIT, deposit_percent=percent), price)
    assert Decimal("0.00") <= due <= price and due == due.quantize(Decimal("0.01"))
    assert abs(due - price * percent / 100) <= Decimal("0.005")
    assert amount_due(ShopPaymentSettings("s1", PaymentMode.FULL), price) == price


@given(late=st.integers(0, 100), refunded=st.decimals(min_value=0, max_value=12000, places=2))
def test_refunds_by_policy_never_exceed_what_is_left(late: int, refunded: Decimal) -> None:
    paid = payment(status=PaymentStatus.APPROVED, paid_amount=Decimal("12000.00"), refunded_amount=refunded)
    early = refund_due(paid, booking(), cutoff=timedelta(hours=2), late_percent=late, now=NOW)
    assert early == paid.refundable
    last_minute = refund_due(
        paid, booking(start_in=timedelta(hours=1)), cutoff=timedelta(hours=2), late_percent=late, now=NOW
    )
    assert Decimal(0) <= last_minute <= paid.refundable


def test_approval_confirms_a_waiting_booking_once() -> None:
    updated, outcome, refund, _ = _next_state(payment(), booking(), gateway("approved"), NOW)
    assert outcome == "confirmed" and updated.status is PaymentStatus.APPROVED and refund == 0
    _, again, _, _ = _next_state(updated, booking(BookingStatus.CONFIRMED), gateway("approved"), NOW)
    assert again == "unchanged"


def test_a_short_or_late_payment_is_given_back() -> None:
    _, outcome, refund, _ = _next_state(payment(), booking(), gateway("approved", amount="100.00"), NOW)
    assert (outcome, refund) == ("underpaid", Decimal("100.00"))
    _, outcome, refund, key = _next_state(
        payment(status=PaymentStatus.EXPIRED), booking(BookingStatus.CANCELLED), gateway("approved"), NOW
    )
    assert (outcome, refund, key) == ("late", Decimal("12000.00"), "cancel-b1")


def test_states_never_go_backwards() -> None:
    approved = payment(status=PaymentStatus.APPROVED, provider_payment_id="mp1", paid_amount=Decimal("12000.00"))
    for status in ("pending", "in_process", "rejected"):
        _, outcome, _, _ = _next_state(approved, booking(BookingStatus.CONFIRMED), gateway(status), NOW)
        assert outcome == "unchanged", status
    _, outcome, _, _ = _next_state(approved, booking(BookingStatus.CONFIRMED), gateway("charged_back"), NOW)
    assert outcome == "charged_back"
    updated, outcome, _, _ = _next_state(
        approved, booking(BookingStatus.CONFIRMED), gateway("refunded", refunded="12000.00"), NOW
    )
    assert outcome == "refunded" and updated.status is PaymentStatus.REFUNDED


def test_a_rejected_card_leaves_the_checkout_open_for_another_try() -> None:
    updated, outcome, _, _ = _next_state(payment(), booking(), gateway("rejected"), NOW)
    assert outcome == "rejected" and updated.status is PaymentStatus.PENDING and updated.provider_payment_id is None


def test_a_chargeback_follows_its_detail_and_only_a_settled_one_takes_the_money_back() -> None:
    approved = payment(status=PaymentStatus.APPROVED, provider_payment_id="mp1", paid_amount=Decimal("12000.00"))
    confirmed = booking(BookingStatus.CONFIRMED)
    opened, outcome, _, _ = _next_state(approved, confirmed, gateway("charged_back", detail="in_process"), NOW)
    assert outcome == "charged_back" and opened.chargeback is Chargeback.IN_PROCESS
    assert opened.kept == Decimal("12000.00")  # held by the issuer, not returned yet
    again, outcome, _, _ = _next_state(opened, confirmed, gateway("charged_back", detail="in_process"), NOW)
    assert outcome == "unchanged" and again is opened
    settled, outcome, _, _ = _next_state(opened, confirmed, gateway("charged_back", detail="settled"), NOW)
    assert outcome == "charged_back" and settled.chargeback is Chargeback.SETTLED and settled.kept == Decimal("0.00")
    won, _, _, _ = _next_state(opened, confirmed, gateway("charged_back", detail="reimbursed"), NOW)
    assert won.chargeback is Chargeback.REIMBURSED and won.kept == Decimal("12000.00")
    unknown, _, _, _ = _next_state(approved, confirmed, gateway("charged_back", detail="something_new"), NOW)
    assert unknown.chargeback is Chargeback.IN_PROCESS  # credited only once MercadoPago says settled


@given(paid=prices, refunded=st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2))
def test_what_a_payment_kept_is_never_negative(paid: Decimal, refunded: Decimal) -> None:
    kept = payment(status=PaymentStatus.APPROVED, paid_amount=paid, refunded_amount=refunded).kept
    assert kept == max(paid - refunded, Decimal("0.00"))


def voucher(voucher_type: int, total: str, corrects: str | None) -> Invoice:
    now = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    return Invoice(
        id=f"v{voucher_type}",
        tenant_id="t",
        booking_id="b",
        cuit="20111111112",
        point_of_sale=3,
        voucher_type=voucher_type,
        status=InvoiceStatus.AUTHORIZED,
        issue_date=now.date(),
        service_from=now.date(),
        service_to=now.date(),
        doc_type=99,
        doc_number="0",
        receiver_iva_condition=5,
        receiver_name="Consumidor Final",
        description="Corte",
        total=Decimal(total),
        net=Decimal(total),
        vat=Decimal("0.00"),
        created_at=now,
        updated_at=now,
        credits_invoice_id=corrects,
    )


def test_credit_notes_take_off_their_invoice_and_debit_notes_add_back() -> None:
    invoice = voucher(11, "12000.00", None)
    assert not invoice.is_correction and invoice.correction_amount == Decimal("0.00")
    for kind in (3, 8, 13):
        note = voucher(kind, "4000.00", invoice.id)
        assert note.is_credit_note and not note.is_debit_note and note.correction_amount == Decimal("-4000.00")
    for kind in (2, 7, 12):
        note = voucher(kind, "4000.00", invoice.id)
        assert note.is_debit_note and not note.is_credit_note and note.correction_amount == Decimal("4000.00")
    # A debit note's type without an invoice to correct is not a correction (never drafted so).
    assert not voucher(12, "1.00", None).is_debit_note
