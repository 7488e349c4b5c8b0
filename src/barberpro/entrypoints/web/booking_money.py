"""What staff see of a booking's money on the agenda: the payment, the invoice and its credit notes.

Read for all of the day's bookings at once (three batch reads), told in Spanish, with each
authorised voucher linked to its PDF (`GET /api/v1/invoices/{id}/pdf`, which the staff session
cookie authorises).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from barberpro.application import invoicing
from barberpro.application.payment_ports import Chargeback, Invoice, InvoiceStatus, Payment, PaymentStatus
from barberpro.bootstrap import Platform
from barberpro.domain.money import format_ars
from barberpro.entrypoints.http.routes_payments import services as payment_services

CHARGEBACK_ES = {
    Chargeback.IN_PROCESS: "Contracargo en curso",
    Chargeback.SETTLED: "Contracargo perdido: se devolvió al cliente",
    Chargeback.REIMBURSED: "Contracargo ganado",
}


@dataclass(frozen=True)
class Voucher:
    label: str  # "Factura C 00003-00000001", "Nota de crédito C 00003-00000002"
    state: str  # "" when authorised, else what is pending in Spanish
    pdf_url: str | None  # only an authorised voucher has a printable PDF


@dataclass(frozen=True)
class BookingMoney:
    payment: str  # "Pagado $ 12.000,00 · devuelto $ 2.000,00"; "" without an online payment
    vouchers: tuple[Voucher, ...]
    attention: bool  # something staff must act on (a rejection, a chargeback)
    rejected: bool  # a voucher AFIP rejected: staff can send it again once its cause is dealt with


def payment_label(payment: Payment) -> str:
    paid, refunded = format_ars(payment.paid_amount), format_ars(payment.refunded_amount)
    if payment.status is PaymentStatus.CHARGED_BACK:
        return CHARGEBACK_ES[payment.chargeback or Chargeback.IN_PROCESS]
    if payment.status is PaymentStatus.REFUNDED:
        return f"Devuelto {refunded}"
    if payment.status is PaymentStatus.APPROVED:
        return f"Pagado {paid}" + (f" · devuelto {refunded}" if payment.refunded_amount > 0 else "")
    return {
        PaymentStatus.PENDING: f"Pago pendiente ({format_ars(payment.amount)})",
        PaymentStatus.IN_PROCESS: "Pago en proceso",
        PaymentStatus.REJECTED: "Pago rechazado",
        PaymentStatus.EXPIRED: "Pago vencido",
    }[payment.status]


VOUCHER_KIND_ES = {"invoice": "Factura", "credit_note": "Nota de crédito", "debit_note": "Nota de débito"}


def voucher(invoice: Invoice) -> Voucher:
    kind = VOUCHER_KIND_ES[invoice.kind]
    letter = invoicing.LETTER.get(invoice.voucher_type, "")
    if invoice.status is InvoiceStatus.AUTHORIZED and invoice.formatted_number is not None:
        return Voucher(f"{kind} {letter} {invoice.formatted_number}", "", f"/api/v1/invoices/{invoice.id}/pdf")
    state = "rechazada por AFIP" if invoice.status is InvoiceStatus.REJECTED else "en trámite con AFIP"
    return Voucher(f"{kind} {letter}", state, None)


def money_of_bookings(platform: Platform, tenant_id: str, booking_ids: Iterable[str]) -> dict[str, BookingMoney]:
    """Booking id -> its money; bookings with no payment and no invoice are absent."""
    ids = list(booking_ids)
    with payment_services(platform).uows(tenant_id, write=False) as uow:
        payments = uow.payments.for_bookings(ids)
        invoices = uow.invoices.for_bookings(ids)
        notes = uow.invoices.corrections_for(i.id for i in invoices.values())
    found: dict[str, BookingMoney] = {}
    for booking_id in ids:
        payment, invoice = payments.get(booking_id), invoices.get(booking_id)
        if payment is None and invoice is None:
            continue
        vouchers = [] if invoice is None else [invoice, *notes.get(invoice.id, [])]
        rejected = any(v.status is InvoiceStatus.REJECTED for v in vouchers)
        charged_back = payment is not None and payment.status is PaymentStatus.CHARGED_BACK
        found[booking_id] = BookingMoney(
            payment_label(payment) if payment is not None else "",
            tuple(voucher(v) for v in vouchers),
            attention=rejected or charged_back,
            rejected=rejected,
        )
    return found
