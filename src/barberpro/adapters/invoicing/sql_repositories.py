"""Tenant-scoped SQL repositories for tax profiles, invoices, numbering counters and WSAA tickets."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.repositories import id_chunks
from barberpro.adapters.payments.sql_repositories import kept_amount
from barberpro.application.payment_ports import (
    CREDITABLE_PAYMENTS,
    DEBIT_NOTE_TYPES,
    Invoice,
    InvoiceStatus,
    IvaCondition,
    LoginTicket,
    SweepKey,
    TaxProfile,
)

_I = t.invoices.c
_IS_INVOICE = _I.credits_invoice_id.is_(None)
_K = t.invoice_counters.c
_W = t.wsaa_tickets.c


class _Scoped:
    def __init__(self, connection: Connection, tenant_id: str) -> None:
        self._c = connection
        self._tenant = tenant_id


class SqlTaxProfileRepository(_Scoped):
    def get(self) -> TaxProfile | None:
        row = self._c.execute(select(t.tax_profiles).where(t.tax_profiles.c.tenant_id == self._tenant)).one_or_none()
        if row is None:
            return None
        return TaxProfile(
            tenant_id=row.tenant_id,
            cuit=row.cuit,
            legal_name=row.legal_name,
            address=row.address,
            iva_condition=IvaCondition(row.iva_condition),
            point_of_sale=row.point_of_sale,
            environment=row.environment,
            gross_income_id=row.gross_income_id,
            activity_start=row.activity_start,
            certificate_pem=row.certificate_pem,
            key_path=row.key_path,
            invoicing_since=row.invoicing_since,
        )

    def put(self, profile: TaxProfile) -> None:
        values = {
            "cuit": profile.cuit,
            "legal_name": profile.legal_name,
            "address": profile.address,
            "iva_condition": profile.iva_condition.value,
            "point_of_sale": profile.point_of_sale,
            "environment": profile.environment,
            "gross_income_id": profile.gross_income_id,
            "activity_start": profile.activity_start,
            "certificate_pem": profile.certificate_pem,
            "key_path": profile.key_path,
            "invoicing_since": profile.invoicing_since,
        }
        changed = self._c.execute(
            update(t.tax_profiles).where(t.tax_profiles.c.tenant_id == self._tenant).values(**values)
        )
        if changed.rowcount == 0:
            self._c.execute(insert(t.tax_profiles).values(tenant_id=self._tenant, **values))


def _invoice(row: Any) -> Invoice:
    return Invoice(
        id=row.id,
        tenant_id=row.tenant_id,
        booking_id=row.booking_id,
        payment_id=row.payment_id,
        cuit=row.cuit,
        point_of_sale=row.point_of_sale,
        voucher_type=row.voucher_type,
        number=row.number,
        status=InvoiceStatus(row.status),
        issue_date=row.issue_date,
        service_from=row.service_from,
        service_to=row.service_to,
        doc_type=row.doc_type,
        doc_number=row.doc_number,
        receiver_iva_condition=row.receiver_iva_condition,
        receiver_name=row.receiver_name,
        description=row.description,
        total=Decimal(row.total),
        net=Decimal(row.net),
        vat=Decimal(row.vat),
        cae=row.cae,
        cae_due=row.cae_due,
        observations=list(row.observations or []),
        errors=list(row.errors or []),
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        credits_invoice_id=row.credits_invoice_id,
    )


def _invoice_row(invoice: Invoice) -> dict[str, Any]:
    return {
        "booking_id": invoice.booking_id,
        "payment_id": invoice.payment_id,
        "cuit": invoice.cuit,
        "point_of_sale": invoice.point_of_sale,
        "voucher_type": invoice.voucher_type,
        "number": invoice.number,
        "status": invoice.status.value,
        "issue_date": invoice.issue_date,
        "service_from": invoice.service_from,
        "service_to": invoice.service_to,
        "doc_type": invoice.doc_type,
        "doc_number": invoice.doc_number,
        "receiver_iva_condition": invoice.receiver_iva_condition,
        "receiver_name": invoice.receiver_name,
        "description": invoice.description,
        "total": invoice.total,
        "net": invoice.net,
        "vat": invoice.vat,
        "cae": invoice.cae,
        "cae_due": invoice.cae_due,
        "observations": invoice.observations,
        "errors": invoice.errors,
        "attempts": invoice.attempts,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "credits_invoice_id": invoice.credits_invoice_id,
    }


class SqlInvoiceRepository(_Scoped):
    def get(self, invoice_id: str) -> Invoice | None:
        row = self._c.execute(select(t.invoices).where(_I.tenant_id == self._tenant, _I.id == invoice_id)).one_or_none()
        return _invoice(row) if row else None

    def for_booking(self, booking_id: str) -> Invoice | None:
        row = self._c.execute(
            select(t.invoices).where(_I.tenant_id == self._tenant, _I.booking_id == booking_id, _IS_INVOICE)
        ).one_or_none()
        return _invoice(row) if row else None

    def for_bookings(self, booking_ids: Iterable[str]) -> dict[str, Invoice]:
        found: dict[str, Invoice] = {}
        for chunk in id_chunks(booking_ids):  # one invoice per booking (uq_invoices_one_per_booking)
            rows = self._c.execute(
                select(t.invoices).where(_I.tenant_id == self._tenant, _I.booking_id.in_(chunk), _IS_INVOICE)
            )
            found.update((row.booking_id, _invoice(row)) for row in rows)
        return found

    def corrections(self, invoice_id: str) -> list[Invoice]:
        return self.corrections_for([invoice_id]).get(invoice_id, [])

    def corrections_for(self, invoice_ids: Iterable[str]) -> dict[str, list[Invoice]]:
        found: dict[str, list[Invoice]] = {}
        for chunk in id_chunks(invoice_ids):
            rows = self._c.execute(
                select(t.invoices)
                .where(_I.tenant_id == self._tenant, _I.credits_invoice_id.in_(chunk))
                # Drafted in the same instant (a frozen clock): AFIP's numbers order them, unnumbered last.
                .order_by(_I.created_at, _I.number.is_(None), _I.number, _I.id)
            )
            for row in rows:
                found.setdefault(row.credits_invoice_id, []).append(_invoice(row))
        return found

    def add(self, invoice: Invoice) -> None:
        try:
            with self._c.begin_nested():
                self._c.execute(
                    insert(t.invoices).values(_invoice_row(invoice) | {"id": invoice.id, "tenant_id": self._tenant})
                )
        except IntegrityError:
            if invoice.is_correction:
                raise  # drafted under the booking's lock: a conflict is a fault, not a race
            return  # one invoice per booking: a concurrent request created it first

    def update(self, invoice: Invoice) -> None:
        self._c.execute(
            update(t.invoices).where(_I.tenant_id == self._tenant, _I.id == invoice.id).values(_invoice_row(invoice))
        )

    def in_flight(self, point_of_sale: int, voucher_type: int) -> list[Invoice]:
        rows = self._c.execute(
            select(t.invoices).where(
                _I.tenant_id == self._tenant,
                _I.point_of_sale == point_of_sale,
                _I.voucher_type == voucher_type,
                _I.status == InvoiceStatus.SENDING.value,
            )
        )
        return [_invoice(r) for r in rows]

    def pending(self, limit: int = 100, after: SweepKey | None = None) -> list[Invoice]:
        query = select(t.invoices).where(
            _I.tenant_id == self._tenant,
            _I.status.in_((InvoiceStatus.DRAFT.value, InvoiceStatus.SENDING.value)),
        )
        if after is not None:
            query = query.where(tuple_(_I.created_at, _I.id) > tuple_(*after))
        return [_invoice(r) for r in self._c.execute(query.order_by(_I.created_at, _I.id).limit(limit))]

    def uncorrected(self, limit: int = 100, after: SweepKey | None = None) -> list[Invoice]:
        p = t.payments.c
        notes = t.invoices.alias("notes")
        # Invoice.correction_amount, summed in SQL: debit notes add, credit notes take off.
        signed = case((notes.c.voucher_type.in_(sorted(DEBIT_NOTE_TYPES)), notes.c.total), else_=-notes.c.total)
        corrected = (
            select(notes.c.credits_invoice_id.label("invoice_id"), func.sum(signed).label("total"))
            .where(notes.c.tenant_id == self._tenant, notes.c.credits_invoice_id.is_not(None))
            .group_by(notes.c.credits_invoice_id)
            .subquery()
        )
        query = (
            select(t.invoices)
            .join(t.payments, and_(p.tenant_id == _I.tenant_id, p.id == _I.payment_id))
            .outerjoin(corrected, corrected.c.invoice_id == _I.id)
            .where(
                _I.tenant_id == self._tenant,
                _IS_INVOICE,
                _I.status == InvoiceStatus.AUTHORIZED.value,
                p.status.in_([s.value for s in CREDITABLE_PAYMENTS]),
                # Amounts are in cents: half a cent apart is a difference (SQLite may sum as floats).
                func.abs(_I.total + func.coalesce(corrected.c.total, 0) - kept_amount()) >= 0.005,
            )
        )
        if after is not None:
            query = query.where(tuple_(_I.created_at, _I.id) > tuple_(*after))
        return [_invoice(r) for r in self._c.execute(query.order_by(_I.created_at, _I.id).limit(limit))]

    def counter(self, point_of_sale: int, voucher_type: int) -> int:
        value = self._c.execute(
            select(_K.last_number).where(
                _K.tenant_id == self._tenant, _K.point_of_sale == point_of_sale, _K.voucher_type == voucher_type
            )
        ).scalar()
        return int(value or 0)

    def set_counter(self, point_of_sale: int, voucher_type: int, last_number: int) -> None:
        changed = self._c.execute(
            update(t.invoice_counters)
            .where(_K.tenant_id == self._tenant, _K.point_of_sale == point_of_sale, _K.voucher_type == voucher_type)
            .values(last_number=last_number)
        )
        if changed.rowcount == 0:
            self._c.execute(
                insert(t.invoice_counters).values(
                    tenant_id=self._tenant,
                    point_of_sale=point_of_sale,
                    voucher_type=voucher_type,
                    last_number=last_number,
                )
            )


class SqlTicketRepository(_Scoped):
    def get(self, cuit: str, environment: str, service: str) -> LoginTicket | None:
        row = self._c.execute(
            select(t.wsaa_tickets).where(
                _W.tenant_id == self._tenant, _W.cuit == cuit, _W.environment == environment, _W.service == service
            )
        ).one_or_none()
        if row is None:
            return None
        return LoginTicket(row.token, row.sign, row.generated_at, row.expires_at)

    def put(self, cuit: str, environment: str, service: str, ticket: LoginTicket) -> None:
        values = {
            "token": ticket.token,
            "sign": ticket.sign,
            "generated_at": ticket.generated_at,
            "expires_at": ticket.expires_at,
        }
        changed = self._c.execute(
            update(t.wsaa_tickets)
            .where(_W.tenant_id == self._tenant, _W.cuit == cuit, _W.environment == environment, _W.service == service)
            .values(**values)
        )
        if changed.rowcount == 0:
            self._c.execute(
                insert(t.wsaa_tickets).values(
                    tenant_id=self._tenant, cuit=cuit, environment=environment, service=service, **values
                )
            )
