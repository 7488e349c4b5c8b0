"""A customer's own data, for an access request under Ley 25.326 (Art. 14): what the shop holds on them.

One document with the customer record, every booking of theirs in this tenant with its payment,
invoice and review, and every consent they gave to the shop's privacy notice (oldest first).
Times are Buenos Aires time with the offset, amounts ARS as strings, field
names in Spanish so the customer can read the file. Producing it is itself recorded
(`PersonalDataExported`, audit entry + outbox event in the same transaction as the reads).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.payment_ports import Invoice, Payment, PaymentsUnitOfWork
from barberpro.application.permissions import require_role
from barberpro.application.ports import AuditEntry
from barberpro.domain.booking import Booking, Review
from barberpro.domain.consent import PrivacyConsent
from barberpro.domain.errors import NotFound
from barberpro.domain.events import DomainEvent

EXPORTED = "PersonalDataExported"
FORMAT = "barberpro.datos-personales/1"
# The law's reader is in Argentina: every instant is shown in Buenos Aires time with its offset.
BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
# Voucher types the shop issues (AFIP codes).
_VOUCHERS = {1: "Factura A", 6: "Factura B", 11: "Factura C"}


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(BUENOS_AIRES).isoformat() if moment is not None else None


def _ars(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _payment(payment: Payment | None) -> dict[str, Any] | None:
    if payment is None:
        return None
    return {
        "estado": payment.status.value,
        "importe": _ars(payment.amount),
        "pagado": _ars(payment.paid_amount),
        "reintegrado": _ars(payment.refunded_amount),
        "medio": payment.provider,
        "creado": _local(payment.created_at),
        "actualizado": _local(payment.updated_at),
    }


def _invoice(invoice: Invoice | None) -> dict[str, Any] | None:
    if invoice is None:
        return None
    number = invoice.formatted_number
    return {
        "tipo": _VOUCHERS.get(invoice.voucher_type, str(invoice.voucher_type)),
        "numero": number,
        "estado": invoice.status.value,
        "fecha": invoice.issue_date.isoformat(),
        "total": _ars(invoice.total),
        "cae": invoice.cae,
        "vencimiento_cae": invoice.cae_due.isoformat() if invoice.cae_due else None,
        "receptor": invoice.receiver_name,
        "documento_receptor": invoice.doc_number,
    }


def _review(review: Review | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {"puntaje": review.rating, "texto": review.text, "fecha": _local(review.created_at)}


def _consent(consent: PrivacyConsent) -> dict[str, Any]:
    return {
        "fecha": _local(consent.granted_at),
        "version_del_aviso": consent.notice_version,
        "canal": consent.channel.value,
        "turno_id": consent.booking_id,
    }


def _booking(
    booking: Booking,
    names: dict[str, str],
    cancelled: AuditEntry | None,
    payment: Payment | None,
    invoice: Invoice | None,
    review: Review | None,
) -> dict[str, Any]:
    return {
        "id": booking.id,
        "local": names.get(booking.shop_id, ""),
        "servicio": names.get(booking.service_id or "", ""),
        "barbero": names.get(booking.barber_id, ""),
        "inicio": _local(booking.start),
        "fin": _local(booking.end),
        "estado": booking.status.value,
        "precio": _ars(booking.price),
        "notas": booking.notes,
        "reservado": _local(booking.created_at),
        "cancelado": _local(cancelled.occurred_at) if cancelled is not None else None,
        "pago": _payment(payment),
        "factura": _invoice(invoice),
        "reseña": _review(review),
    }


def export_customer_data(uow: PaymentsUnitOfWork, ctx: Context, customer_id: str) -> dict[str, Any]:
    """The customer's data as one JSON-ready document. Owners and managers only; another tenant's id is not found."""
    require_role(ctx)
    with uow:
        customer = uow.customers.get(customer_id)
        if customer is None:
            raise NotFound("customer not found", field="customer_id")
        created = uow.audit.list(entity_id=customer.id, action="CustomerCreated", limit=1)
        bookings = uow.bookings.of_customer(customer.id)
        consents = uow.consents.of_customer(customer.id)
        names = {s.id: s.name for s in uow.shops.list()}
        names |= {b.id: b.name for b in uow.barbers.list()}
        names |= {s.id: s.name for s in uow.services.list()}
        # One query per kind for all bookings: a regular customer has hundreds of them.
        ids = [booking.id for booking in bookings]
        cancellations = uow.audit.first_per_entity(ids, "BookingCancelled")
        payments = uow.payments.for_bookings(ids)
        invoices = uow.invoices.for_bookings(ids)
        reviews = uow.reviews.by_bookings(ids)
        document = {
            "formato": FORMAT,
            "comercio": uow.tenant.get().name,
            "generado": _local(ctx.now),
            "cliente": {
                "id": customer.id,
                "nombre": customer.name,
                "telefono": customer.phone,
                "email": customer.email,
                "dni": customer.dni,
                "alta": _local(created[0].occurred_at) if created else None,
            },
            "turnos": [
                _booking(
                    booking,
                    names,
                    cancellations.get(booking.id),
                    payments.get(booking.id),
                    invoices.get(booking.id),
                    reviews.get(booking.id),
                )
                for booking in bookings
            ],
            "consentimientos": [_consent(consent) for consent in consents],
        }
        record(
            uow,
            ctx,
            action=EXPORTED,
            entity_type="customer",
            entity_id=customer.id,
            after={"bookings": len(bookings)},
            event=DomainEvent(EXPORTED, ctx.tenant_id, customer.id, ctx.now, {"bookings": len(bookings)}),
        )
        uow.commit()
    return document
