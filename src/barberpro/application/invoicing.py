"""Electronic invoices (AFIP/ARCA WSFEv1): drafting, numbering, authorising, recovering.

Numbering is AFIP's rule: a voucher must be "last authorised + 1" for its point of sale and
type. So numbering one (point of sale, type) is serialised by a lock held across the
remote call, the number is written as SENDING before the call (a crash leaves evidence),
and a lost answer is settled with FECompConsultar before any new number is used: an
invoice AFIP authorised is recorded, never issued twice.

A refund after the booking was invoiced is answered with a credit note (Nota de Crédito A,
B or C, the invoice's class) for what the invoice no longer covers, naming the invoice it
corrects (CbtesAsoc). Money that comes back to the shop after a credit note (a chargeback
settled against it, then won on appeal) is answered with a debit note (Nota de Débito A, B
or C) for the difference. Either is numbered and authorised by the same machinery as an
invoice, in its own sequence per point of sale and type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.ar import cuit as stdnum_cuit
from stdnum.ar import dni as stdnum_dni
from stdnum.exceptions import ValidationError

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.pagination import sweep
from barberpro.application.payment_ports import (
    CREDITABLE_PAYMENTS,
    AssociatedVoucher,
    Authorization,
    Invoice,
    InvoiceStatus,
    IvaCondition,
    Message,
    NumberingLock,
    Payment,
    PaymentsUnitOfWork,
    PaymentsUnitOfWorkFactory,
    SweepKey,
    TaxAuthority,
    TaxAuthorityUnreachable,
    TaxProfile,
    VoucherRequest,
)
from barberpro.domain.errors import InvalidValue, NotFound, PolicyViolation
from barberpro.domain.identifiers import new_id

FACTURA_A, FACTURA_B, FACTURA_C = 1, 6, 11
NOTA_CREDITO_A, NOTA_CREDITO_B, NOTA_CREDITO_C = 3, 8, 13
NOTA_DEBITO_A, NOTA_DEBITO_B, NOTA_DEBITO_C = 2, 7, 12
CREDIT_NOTE_FOR = {FACTURA_A: NOTA_CREDITO_A, FACTURA_B: NOTA_CREDITO_B, FACTURA_C: NOTA_CREDITO_C}
DEBIT_NOTE_FOR = {FACTURA_A: NOTA_DEBITO_A, FACTURA_B: NOTA_DEBITO_B, FACTURA_C: NOTA_DEBITO_C}
LETTER = {
    FACTURA_A: "A",
    FACTURA_B: "B",
    FACTURA_C: "C",
    NOTA_CREDITO_A: "A",
    NOTA_CREDITO_B: "B",
    NOTA_CREDITO_C: "C",
    NOTA_DEBITO_A: "A",
    NOTA_DEBITO_B: "B",
    NOTA_DEBITO_C: "C",
}
DOC_CUIT, DOC_DNI, DOC_NONE = 80, 96, 99
# CondicionIVAReceptorId (RG 5616)
RECEIVER_RI, RECEIVER_EXENTO, RECEIVER_CF, RECEIVER_MONOTRIBUTO = 1, 4, 5, 6
VAT_RATE = Decimal("0.21")
CENT = Decimal("0.01")
# From this total on a consumidor final must be identified (RG 5700/2025: $ 10.000.000).
IDENTIFY_FROM = Decimal("10000000.00")
AR_ZONE = ZoneInfo("America/Argentina/Buenos_Aires")


def valid_cuit(raw: str) -> str:
    try:
        return str(stdnum_cuit.validate(raw))
    except ValidationError as error:
        raise InvalidValue(f"invalid CUIT: {error}", field="cuit") from error


def valid_dni(raw: str) -> str:
    try:
        return str(stdnum_dni.validate(raw))
    except ValidationError as error:
        raise InvalidValue(f"invalid DNI: {error}", field="dni") from error


@dataclass(frozen=True)
class Receiver:
    doc_type: int = DOC_NONE
    doc_number: str = "0"
    iva_condition: int = RECEIVER_CF
    name: str = "Consumidor Final"

    @classmethod
    def checked(cls, *, doc_type: int, doc_number: str, iva_condition: int, name: str) -> Receiver:
        if doc_type == DOC_CUIT:
            doc_number = valid_cuit(doc_number)
        elif doc_type == DOC_DNI:
            doc_number = valid_dni(doc_number)
        elif doc_type == DOC_NONE:
            doc_number = "0"
            if iva_condition != RECEIVER_CF:
                raise InvalidValue("an unidentified receiver can only be consumidor final", field="doc_type")
        else:
            raise InvalidValue("doc_type must be 80 (CUIT), 96 (DNI) or 99 (none)", field="doc_type")
        if iva_condition not in (RECEIVER_RI, RECEIVER_EXENTO, RECEIVER_CF, RECEIVER_MONOTRIBUTO):
            raise InvalidValue("iva_condition must be 1, 4, 5 or 6", field="iva_condition")
        if iva_condition in (RECEIVER_RI, RECEIVER_MONOTRIBUTO) and doc_type != DOC_CUIT:
            raise InvalidValue("a responsable inscripto or monotributista is identified by CUIT", field="doc_type")
        return cls(doc_type, doc_number, iva_condition, name.strip()[:200] or "Consumidor Final")


def voucher_type(issuer: IvaCondition, receiver: Receiver) -> int:
    """Monotributo issues C; a responsable inscripto issues A to RI/monotributo (with CUIT), else B."""
    if issuer is IvaCondition.MONOTRIBUTO:
        return FACTURA_C
    if receiver.iva_condition in (RECEIVER_RI, RECEIVER_MONOTRIBUTO):
        return FACTURA_A
    return FACTURA_B


def split_amounts(total: Decimal, kind: int) -> tuple[Decimal, Decimal]:
    """(net, VAT) for a VAT-included total: C carries no VAT detail; A and B at 21 %."""
    total = total.quantize(CENT)
    if kind in (FACTURA_C, NOTA_CREDITO_C, NOTA_DEBITO_C):
        return total, Decimal("0.00")
    net = (total / (1 + VAT_RATE)).quantize(CENT, rounding=ROUND_HALF_UP)
    return net, total - net


def _local_day(ctx: Context) -> date:
    return ctx.now.astimezone(AR_ZONE).date()


def configure_tax_profile(uow: PaymentsUnitOfWork, ctx: Context, profile: TaxProfile) -> TaxProfile:
    profile = replace(profile, cuit=valid_cuit(profile.cuit))
    if not 1 <= profile.point_of_sale <= 99998:
        raise InvalidValue("point_of_sale must be from 1 to 99998", field="point_of_sale")
    if profile.environment not in ("homologacion", "produccion"):
        raise InvalidValue("environment must be homologacion or produccion", field="environment")
    with uow:
        before = uow.tax_profiles.get()
        since = before.invoicing_since if before is not None and before.invoicing_since else ctx.now
        profile = replace(profile, invoicing_since=since)
        uow.tax_profiles.put(profile)
        record(
            uow,
            ctx,
            action="TaxProfileChanged",
            entity_type="tenant",
            entity_id=ctx.tenant_id,
            before=before,
            after=replace(profile, certificate_pem="(certificate)"),
        )
        uow.commit()
    return profile


def draft_invoice(uow: PaymentsUnitOfWork, ctx: Context, booking_id: str, receiver: Receiver | None = None) -> Invoice:
    """The booking's invoice (one per booking), for what was actually paid, or the price if paid at the shop."""
    with uow:
        existing = uow.invoices.for_booking(booking_id)
        if existing is not None:
            return existing
        profile = uow.tax_profiles.get()
        if profile is None:
            raise PolicyViolation("this business has no AFIP tax profile yet", field="tax_profile")
        booking = uow.bookings.get(booking_id)
        if booking is None or booking.service_id is None:
            raise NotFound("booking not found", field="booking_id")
        payment = uow.payments.for_booking(booking_id)
        # What the customer kept paid: a payment refunded in full, or charged back with the
        # chargeback settled against the shop, leaves nothing to invoice. Paid at the shop: the price.
        total = payment.kept if payment is not None and payment.status in CREDITABLE_PAYMENTS else booking.price
        if total <= 0:
            raise PolicyViolation("nothing to invoice", field="booking_id")
        if receiver is None:
            customer = uow.customers.get(booking.customer_id) if booking.customer_id else None
            if customer is not None and customer.dni:
                receiver = Receiver(DOC_DNI, customer.dni, RECEIVER_CF, customer.name)
            else:
                receiver = Receiver()
        if receiver.doc_type == DOC_NONE and total >= IDENTIFY_FROM:
            raise PolicyViolation("from $ 10.000.000 the customer must be identified (DNI or CUIT)", field="doc_type")
        kind = voucher_type(profile.iva_condition, receiver)
        net, vat = split_amounts(total, kind)
        service = uow.services.get(booking.service_id)
        shop = uow.shops.get(booking.shop_id)
        service_day = booking.start.astimezone(shop.zone if shop else AR_ZONE).date()
        invoice = Invoice(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            booking_id=booking.id,
            payment_id=payment.id if payment else None,
            cuit=profile.cuit,
            point_of_sale=profile.point_of_sale,
            voucher_type=kind,
            status=InvoiceStatus.DRAFT,
            issue_date=_local_day(ctx),
            service_from=service_day,
            service_to=service_day,
            doc_type=receiver.doc_type,
            doc_number=receiver.doc_number,
            receiver_iva_condition=receiver.iva_condition,
            receiver_name=receiver.name,
            description=(service.name if service else "Servicio de barbería")[:300],
            total=total.quantize(CENT),
            net=net,
            vat=vat,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        uow.invoices.add(invoice)
        stored = uow.invoices.for_booking(booking_id)
        if stored is None or stored.id != invoice.id:
            return stored or invoice  # a concurrent request drafted it first: nothing of ours to commit
        record(uow, ctx, action="InvoiceDrafted", entity_type="invoice", entity_id=invoice.id, after=invoice)
        uow.commit()
        return invoice


def _request(invoice: Invoice, number: int, today: date, credited: Invoice | None = None) -> VoucherRequest:
    associated: tuple[AssociatedVoucher, ...] = ()
    if credited is not None and credited.number is not None:
        associated = (
            AssociatedVoucher(
                credited.voucher_type, credited.point_of_sale, credited.number, credited.cuit, credited.issue_date
            ),
        )
    return VoucherRequest(
        point_of_sale=invoice.point_of_sale,
        voucher_type=invoice.voucher_type,
        number=number,
        issue_date=today,
        service_from=invoice.service_from,
        service_to=invoice.service_to,
        payment_due=max(today, invoice.service_to),
        doc_type=invoice.doc_type,
        doc_number=invoice.doc_number,
        receiver_iva_condition=invoice.receiver_iva_condition,
        total=invoice.total,
        net=invoice.net,
        vat=invoice.vat,
        associated=associated,
    )


def _messages(items: tuple[Message, ...]) -> list[dict[str, Any]]:
    return [{"code": m.code, "text": m.text} for m in items]


def _save(uows: PaymentsUnitOfWorkFactory, ctx: Context, before: Invoice, after: Invoice, action: str) -> Invoice:
    with uows(ctx.tenant_id) as uow:
        uow.invoices.update(after)
        if after.status is InvoiceStatus.AUTHORIZED and after.number is not None:
            last = uow.invoices.counter(after.point_of_sale, after.voucher_type)
            uow.invoices.set_counter(after.point_of_sale, after.voucher_type, max(last, after.number))
        record(uow, ctx, action=action, entity_type="invoice", entity_id=after.id, before=before, after=after)
        uow.commit()
    return after


def _settle_lost(uows: PaymentsUnitOfWorkFactory, ctx: Context, authority: TaxAuthority, invoice: Invoice) -> Invoice:
    """An invoice left SENDING: ask AFIP whether that number was authorised for it."""
    assert invoice.number is not None
    found = authority.lookup(invoice.point_of_sale, invoice.voucher_type, invoice.number)
    if (
        found is not None
        and found.total == invoice.total
        and found.doc_number.lstrip("0") == invoice.doc_number.lstrip("0")
    ):
        done = replace(
            invoice,
            status=InvoiceStatus.AUTHORIZED,
            cae=found.cae,
            cae_due=found.cae_due,
            issue_date=found.issue_date,
            updated_at=ctx.now,
        )
        return _save(uows, ctx, invoice, done, "InvoiceAuthorized")
    # AFIP never saw it (or the number went to another voucher): release the number, draft again.
    return _save(
        uows,
        ctx,
        invoice,
        replace(invoice, status=InvoiceStatus.DRAFT, number=None, updated_at=ctx.now),
        "InvoiceNumberReleased",
    )


OUT_OF_SEQUENCE = 10016


def _send(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority: TaxAuthority,
    current: Invoice,
    number: int,
    credited: Invoice | None,
) -> Invoice | tuple[Invoice, Authorization]:
    """Record the number as SENDING, then ask AFIP; a lost answer is settled here (an Invoice comes back)."""
    today = _local_day(ctx)
    sending = replace(
        current,
        status=InvoiceStatus.SENDING,
        number=number,
        issue_date=today,
        attempts=current.attempts + 1,
        updated_at=ctx.now,
        errors=[],
        observations=[],
    )
    _save(uows, ctx, current, sending, "InvoiceSent")
    try:
        return sending, authority.authorize(_request(sending, number, today, credited))
    except TaxAuthorityUnreachable:
        try:
            return _settle_lost(uows, ctx, authority, sending)
        except TaxAuthorityUnreachable:
            return sending  # still unknown: the next run settles it before numbering anything


def issue_invoice(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority: TaxAuthority,
    lock: NumberingLock,
    invoice_id: str,
    *,
    trust_counter: bool = True,
) -> Invoice:
    with uows(ctx.tenant_id, write=False) as uow:
        invoice = uow.invoices.get(invoice_id)
    if invoice is None:
        raise NotFound("invoice not found", field="invoice_id")
    if invoice.status is InvoiceStatus.AUTHORIZED:
        return invoice
    with lock.hold(f"wsfe:{invoice.cuit}:{invoice.point_of_sale}:{invoice.voucher_type}"):
        with uows(ctx.tenant_id, write=False) as uow:
            in_flight = uow.invoices.in_flight(invoice.point_of_sale, invoice.voucher_type)
        for lost in in_flight:
            _settle_lost(uows, ctx, authority, lost)
        with uows(ctx.tenant_id, write=False) as uow:
            current = uow.invoices.get(invoice_id)
            credited = uow.invoices.get(current.credits_invoice_id) if current and current.credits_invoice_id else None
        assert current is not None
        if current.status is InvoiceStatus.AUTHORIZED:
            return current
        with uows(ctx.tenant_id, write=False) as uow:
            known = uow.invoices.counter(current.point_of_sale, current.voucher_type) if trust_counter else 0
        # Under the lock our counter is AFIP's last number unless someone else issues on this point of
        # sale; then AFIP answers 10016 and we resynchronise once. That saves a round trip per invoice.
        number = known + 1 if known else authority.last_authorized(current.point_of_sale, current.voucher_type) + 1
        outcome = _send(uows, ctx, authority, current, number, credited)
        if isinstance(outcome, Invoice):
            return outcome
        sending, answer = outcome
        if known and not answer.approved and any(m.code == OUT_OF_SEQUENCE for m in answer.observations):
            number = authority.last_authorized(current.point_of_sale, current.voucher_type) + 1
            outcome = _send(uows, ctx, authority, sending, number, credited)
            if isinstance(outcome, Invoice):
                return outcome
            sending, answer = outcome
        if answer.approved:
            done = replace(
                sending,
                status=InvoiceStatus.AUTHORIZED,
                cae=answer.cae,
                cae_due=answer.cae_due,
                observations=_messages(answer.observations),
                updated_at=ctx.now,
            )
            return _save(uows, ctx, sending, done, "InvoiceAuthorized")
        rejected = replace(
            sending,
            status=InvoiceStatus.REJECTED,
            number=None,
            observations=_messages(answer.observations),
            errors=_messages(answer.errors),
            updated_at=ctx.now,
        )
        return _save(uows, ctx, sending, rejected, "InvoiceRejected")


def retry_rejected(uow: PaymentsUnitOfWork, ctx: Context, invoice_id: str, receiver: Receiver | None) -> Invoice:
    """Staff corrected what AFIP objected to: back to draft (optionally with another receiver)."""
    with uow:
        invoice = uow.invoices.get(invoice_id)
        if invoice is None:
            raise NotFound("invoice not found", field="invoice_id")
        if invoice.status is not InvoiceStatus.REJECTED:
            raise PolicyViolation(f"a {invoice.status.value} invoice cannot be retried", field="invoice_id")
        if invoice.is_correction and receiver is not None:
            raise PolicyViolation(
                "a credit or debit note keeps the receiver of the invoice it corrects", field="doc_type"
            )
        profile = uow.tax_profiles.get()
        if receiver is not None and profile is not None:
            kind = voucher_type(profile.iva_condition, receiver)
            net, vat = split_amounts(invoice.total, kind)
            invoice_next = replace(
                invoice,
                voucher_type=kind,
                net=net,
                vat=vat,
                doc_type=receiver.doc_type,
                doc_number=receiver.doc_number,
                receiver_iva_condition=receiver.iva_condition,
                receiver_name=receiver.name,
            )
        else:
            invoice_next = invoice
        draft = replace(invoice_next, status=InvoiceStatus.DRAFT, updated_at=ctx.now)
        uow.invoices.update(draft)
        record(
            uow, ctx, action="InvoiceRetried", entity_type="invoice", entity_id=invoice.id, before=invoice, after=draft
        )
        uow.commit()
        return draft


def qr_payload(invoice: Invoice) -> dict[str, Any]:
    """The JSON that AFIP's invoice QR carries (RG 4892), version 1."""
    if invoice.cae is None or invoice.number is None:
        raise PolicyViolation("only an authorised invoice has a QR code", field="invoice_id")
    return {
        "ver": 1,
        "fecha": invoice.issue_date.isoformat(),
        "cuit": int(invoice.cuit),
        "ptoVta": invoice.point_of_sale,
        "tipoCmp": invoice.voucher_type,
        "nroCmp": invoice.number,
        "importe": float(invoice.total),
        "moneda": "PES",
        "ctz": 1,
        "tipoDocRec": invoice.doc_type,
        "nroDocRec": int(invoice.doc_number or 0),
        "tipoCodAut": "E",
        "codAut": int(invoice.cae),
    }


def invoice_booking(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    booking_id: str,
    receiver: Receiver | None = None,
) -> Invoice | None:
    """Draft and issue the booking's invoice; None when the business has no tax profile."""
    return _draft_and_issue(uows, ctx, authority_for, lock, lambda uow: draft_invoice(uow, ctx, booking_id, receiver))


def _draft_and_issue(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    draft: Callable[[PaymentsUnitOfWork], Invoice | None],
) -> Invoice | None:
    """Draft a voucher and have AFIP authorise it; None without a tax profile or nothing to draft."""
    with uows(ctx.tenant_id, write=False) as uow:
        profile = uow.tax_profiles.get()
    if profile is None:
        return None
    drafted = draft(uows(ctx.tenant_id))
    if drafted is None or drafted.status is InvoiceStatus.REJECTED:
        return drafted  # staff decide (retry_rejected) after reading AFIP's observations
    return issue_invoice(uows, ctx, authority_for(profile), lock, drafted.id)


def draft_correction(uow: PaymentsUnitOfWork, ctx: Context, booking_id: str) -> Invoice | None:
    """The credit or debit note the booking's authorised invoice needs, if any.

    The invoice as corrected so far (its total, less the credit notes, plus the debit notes
    drafted against it) should equal what the customer kept paid (nothing while a chargeback
    stands settled against the shop). More than that is credited (refunds, a chargeback lost);
    less is debited (a chargeback the shop won after its credit note went out). Computed, not
    counted per event, so a retry or a second caller finds nothing more to do (the booking's
    lock makes the second wait for the first). A note not yet authorised is returned instead
    of a new one: it is issued before anything else is due.
    """
    with uow:
        uow.lock("credit-note", booking_id)
        invoice = uow.invoices.for_booking(booking_id)
        if invoice is None or invoice.status is not InvoiceStatus.AUTHORIZED or invoice.payment_id is None:
            return None
        payment = uow.payments.get(invoice.payment_id)
        if payment is None or payment.status not in CREDITABLE_PAYMENTS:
            return None  # never paid through MercadoPago (paid at the shop): nothing came back
        notes = uow.invoices.corrections(invoice.id)
        unsettled = next((n for n in notes if n.status is not InvoiceStatus.AUTHORIZED), None)
        if unsettled is not None:
            return unsettled
        corrected = invoice.total + sum((n.correction_amount for n in notes), Decimal("0.00"))
        due = (corrected - payment.kept).quantize(CENT)
        if due == 0:
            return None
        if due > 0:
            kind, action, description = CREDIT_NOTE_FOR[invoice.voucher_type], "CreditNoteDrafted", "Devolución"
        else:
            kind, action, description = (
                DEBIT_NOTE_FOR[invoice.voucher_type],
                "DebitNoteDrafted",
                "Contracargo revertido",
            )
        amount = abs(due)
        net, vat = split_amounts(amount, kind)
        note = replace(
            invoice,
            id=new_id(),
            voucher_type=kind,
            status=InvoiceStatus.DRAFT,
            issue_date=_local_day(ctx),
            description=f"{description}: {invoice.description}"[:300],
            total=amount,
            net=net,
            vat=vat,
            number=None,
            cae=None,
            cae_due=None,
            observations=[],
            errors=[],
            attempts=0,
            created_at=ctx.now,
            updated_at=ctx.now,
            credits_invoice_id=invoice.id,
        )
        uow.invoices.add(note)
        record(uow, ctx, action=action, entity_type="invoice", entity_id=note.id, after=note)
        uow.commit()
        return note


def correct_invoice(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    booking_id: str,
) -> Invoice | None:
    """After a refund or a chargeback's change: draft and issue the credit or debit note the
    booking's invoice needs (None if none)."""
    return _draft_and_issue(uows, ctx, authority_for, lock, lambda uow: draft_correction(uow, ctx, booking_id))


def invoiced_automatically(profile: TaxProfile, payment: Payment | None) -> bool:
    """Whether the platform invoices this payment on its own: taken through MercadoPago since
    invoicing began, and it kept money (sales paid at the shop are invoiced by staff)."""
    return (
        payment is not None
        and payment.status in CREDITABLE_PAYMENTS
        and payment.kept > 0
        and profile.invoicing_since is not None
        and payment.created_at >= profile.invoicing_since
    )


def invoice_or_correct(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    booking_id: str,
) -> Invoice | None:
    """After a booking's money moved (a refund, a chargeback's change): the note its invoice now
    needs, or the invoice itself where the payment kept money and was never invoiced (its drafting
    failed outright, or a chargeback settled before invoicing was won back)."""
    with uows(ctx.tenant_id, write=False) as uow:
        invoiced = uow.invoices.for_booking(booking_id) is not None
        profile = uow.tax_profiles.get()
        payment = uow.payments.for_booking(booking_id)
    if not invoiced and profile is not None and invoiced_automatically(profile, payment):
        return invoice_booking(uows, ctx, authority_for, lock, booking_id)
    return correct_invoice(uows, ctx, authority_for, lock, booking_id)


@dataclass(frozen=True)
class VoucherSweep:
    """What the retry job's pass over one business's vouchers did."""

    retried: list[Invoice]  # drafts sent again and lost answers settled, as AFIP left them
    invoiced: list[Invoice]  # invoices for payments left without one
    corrected: list[Invoice]  # credit and debit notes for money that moved after invoicing
    needs_staff: list[str]  # bookings it could not invoice on its own (a receiver to identify)
    afip_unreachable: bool = False  # AFIP stopped answering: the pass stopped there (next run goes on)


def sweep_vouchers(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    *,
    page: int = 100,
) -> VoucherSweep:
    """The retry job's pass: vouchers drafted but not authorised (AFIP down, an answer lost) are
    sent again; payments kept since invoicing began with no invoice are invoiced; authorised
    invoices whose payment changed since get their credit or debit note. Found by state and
    amounts, not by events that may be gone; read page after page, so nothing is left for
    lack of room. Rejected vouchers wait for staff (they read AFIP's observations first). When
    AFIP stops answering, the pass stops (what it drafted stays for the next run to send)."""
    with uows(ctx.tenant_id, write=False) as uow:
        profile = uow.tax_profiles.get()
    if profile is None:
        return VoucherSweep([], [], [], [])
    authority = authority_for(profile)

    def pending(after: SweepKey | None) -> list[Invoice]:
        with uows(ctx.tenant_id, write=False) as uow:
            return uow.invoices.pending(page, after)

    def uninvoiced(after: SweepKey | None) -> list[Payment]:
        with uows(ctx.tenant_id, write=False) as uow:
            return uow.payments.uninvoiced(profile.invoicing_since or ctx.now, page, after)

    def uncorrected(after: SweepKey | None) -> list[Invoice]:
        with uows(ctx.tenant_id, write=False) as uow:
            return uow.invoices.uncorrected(page, after)

    def key(row: Invoice | Payment) -> SweepKey:
        return row.created_at, row.id

    done = VoucherSweep([], [], [], [])
    try:
        for invoice in sweep(pending, key):
            done.retried.append(issue_invoice(uows, ctx, authority, lock, invoice.id))
        for payment in sweep(uninvoiced, key):
            try:
                drafted = invoice_booking(uows, ctx, authority_for, lock, payment.booking_id)
            except PolicyViolation:  # e.g. from $ 10.000.000 the customer must be identified
                done.needs_staff.append(payment.booking_id)
                continue
            if drafted is not None:
                done.invoiced.append(drafted)
        for invoice in sweep(uncorrected, key):
            note = correct_invoice(uows, ctx, authority_for, lock, invoice.booking_id)
            if note is not None:
                done.corrected.append(note)
    except TaxAuthorityUnreachable:
        return replace(done, afip_unreachable=True)
    return done


def resend_rejected(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    authority_for: Callable[[TaxProfile], TaxAuthority],
    lock: NumberingLock,
    booking_id: str,
) -> list[Invoice]:
    """Staff dealt with what AFIP objected to: the booking's rejected invoice and credit or debit
    note go back to draft (same receiver and amounts) and are sent again, the invoice first (a note
    needs it authorised). Returns them as AFIP left them; 409 when nothing of the booking was rejected."""
    with uows(ctx.tenant_id, write=False) as uow:
        if uow.bookings.get(booking_id) is None:
            raise NotFound("booking not found", field="booking_id")
        invoice = uow.invoices.for_booking(booking_id)
        notes = uow.invoices.corrections(invoice.id) if invoice else []
    rejected = [v for v in (invoice, *notes) if v is not None and v.status is InvoiceStatus.REJECTED]
    if not rejected:
        raise PolicyViolation("nothing of this booking was rejected by AFIP", field="booking_id")
    for voucher in rejected:
        retry_rejected(uows(ctx.tenant_id), ctx, voucher.id, None)
    sent = [invoice_booking(uows, ctx, authority_for, lock, booking_id)] if invoice in rejected else []
    if any(voucher.is_correction for voucher in rejected):
        sent.append(correct_invoice(uows, ctx, authority_for, lock, booking_id))
    return [voucher for voucher in sent if voucher is not None]
