"""Ports and records for payments (MercadoPago) and electronic invoices (AFIP/ARCA).

Kept apart from ports.py: the booking core runs without any of this, and a shop that
takes no prepayment never touches it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from barberpro.application.ports import UnitOfWork

# --- payments --------------------------------------------------------------------------------


class PaymentMode(enum.StrEnum):
    NONE = "none"  # pay at the shop; bookings are confirmed at once
    DEPOSIT = "deposit"  # a percentage up front
    FULL = "full"  # full prepayment


@dataclass(frozen=True)
class ShopPaymentSettings:
    shop_id: str
    mode: PaymentMode = PaymentMode.NONE
    deposit_percent: int = 30
    hold_minutes: int = 15  # how long an unpaid booking keeps its slot
    # Cancelled before the shop's customer cut-off: full refund; after it, this share.
    late_refund_percent: int = 0

    @property
    def requires_payment(self) -> bool:
        return self.mode is not PaymentMode.NONE

    @property
    def hold(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    @property
    def prepayment_hold(self) -> timedelta | None:
        """How long an unpaid booking keeps its slot; None when the shop takes no prepayment."""
        return self.hold if self.requires_payment else None


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # preference created, nothing paid yet
    IN_PROCESS = "in_process"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # the hold ran out unpaid
    REFUNDED = "refunded"  # fully refunded
    CHARGED_BACK = "charged_back"


class Chargeback(enum.StrEnum):
    """Where a chargeback stands (MercadoPago's status_detail of a charged_back payment)."""

    IN_PROCESS = "in_process"  # the card issuer opened it; the money is held
    SETTLED = "settled"  # settled against the shop: the money went back to the customer
    REIMBURSED = "reimbursed"  # settled in the shop's favour: the shop keeps the money

    @classmethod
    def from_detail(cls, detail: str) -> Chargeback:
        """An unknown or missing detail is read as still open: nothing is credited for it."""
        try:
            return cls(detail)
        except ValueError:
            return cls.IN_PROCESS


# Nota de Débito A, B, C: a correction that adds to the invoice (e.g. a chargeback the shop won
# after its credit note was issued). The Nota de Crédito types are 3, 8 and 13.
DEBIT_NOTE_TYPES = frozenset({2, 7, 12})

# Where a sweep stopped: the (created_at, id) of the last row it read. Sweeps read page after page
# from there, so rows left as they were (a rejection, a payment still pending) cannot starve the rest.
SweepKey = tuple[datetime, str]

# Payments whose money moved through MercadoPago: only what such a payment gave back is credited.
CREDITABLE_PAYMENTS = frozenset({PaymentStatus.APPROVED, PaymentStatus.REFUNDED, PaymentStatus.CHARGED_BACK})


@dataclass(frozen=True)
class Payment:
    id: str
    tenant_id: str
    booking_id: str
    amount: Decimal  # what the customer is asked to pay
    status: PaymentStatus
    hold_until: datetime
    created_at: datetime
    updated_at: datetime
    provider: str = "mercadopago"
    preference_id: str | None = None
    checkout_url: str | None = None
    provider_payment_id: str | None = None
    paid_amount: Decimal = Decimal("0.00")
    refunded_amount: Decimal = Decimal("0.00")
    provider_updated_at: datetime | None = None
    version: int = 1
    # The MercadoPago account that took it: a shop's own (its user id) or None, the platform's.
    # Notifications, refunds and reconciliation of this payment go through that account.
    collector_id: str | None = None
    chargeback: Chargeback | None = None  # set once the payment is charged back

    @property
    def refundable(self) -> Decimal:
        return self.paid_amount - self.refunded_amount

    @property
    def kept(self) -> Decimal:
        """What the customer finally paid: paid less refunds, nothing once a chargeback was settled
        against the shop (the card issuer gave it all back)."""
        if self.status is PaymentStatus.CHARGED_BACK and self.chargeback is Chargeback.SETTLED:
            return Decimal("0.00")
        return max(self.paid_amount - self.refunded_amount, Decimal("0.00"))


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  # written before the gateway call, so a retry reuses its key
    DONE = "done"


@dataclass(frozen=True)
class Refund:
    id: str
    tenant_id: str
    payment_id: str
    idempotency_key: str
    amount: Decimal
    status: RefundStatus
    reason: str
    created_at: datetime
    provider_refund_id: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    booking_id: str
    title: str
    amount: Decimal
    payer_name: str
    payer_email: str
    expires_at: datetime
    notification_url: str
    back_url: str


@dataclass(frozen=True)
class Preference:
    id: str
    checkout_url: str


@dataclass(frozen=True)
class GatewayPayment:
    """A payment as the gateway reports it now (always fetched, never taken from a notification)."""

    id: str
    status: str  # MercadoPago's: approved, pending, in_process, rejected, refunded, charged_back, ...
    status_detail: str
    external_reference: str
    amount: Decimal
    refunded_amount: Decimal
    updated_at: datetime
    currency: str = "ARS"


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    amount: Decimal


class GatewayUnavailable(Exception):
    """The gateway did not answer, or answered with a server error: safe to retry later."""


class GatewayUnauthorized(Exception):
    """The gateway refused the credentials (an access token revoked, expired or mistyped)."""


@dataclass(frozen=True)
class GatewayAccount:
    """Whose MercadoPago account an access token acts for (GET /users/me)."""

    id: str
    site_id: str  # MLA for Argentina
    nickname: str = ""


@dataclass(frozen=True)
class MercadoPagoAccount:
    """A shop's own MercadoPago credentials: its checkouts pay into its account, not the platform's.

    Connected either with its own application's credentials (`via="credentials"`: its access
    token and webhook secret) or by authorising the platform's application (`via="oauth"`: an
    access token that expires, a refresh token, and notifications signed with the platform
    application's secret, so `webhook_secret` is empty). The secrets are kept sealed at rest by
    the repository; here they are in clear."""

    tenant_id: str
    user_id: str
    access_token: str
    webhook_secret: str
    live_mode: bool
    connected_at: datetime
    via: str = "credentials"
    refresh_token: str | None = None
    expires_at: datetime | None = None  # when the access token stops working (OAuth only)
    renewal_refused_at: datetime | None = None  # MercadoPago last refused to renew it (access withdrawn)


@dataclass(frozen=True)
class OAuthGrant:
    """What MercadoPago's /oauth/token answers for a seller who authorised the platform's application."""

    access_token: str
    refresh_token: str
    user_id: str
    expires_at: datetime
    live_mode: bool


class MercadoPagoAuthorization(Protocol):
    """The platform's MercadoPago application acting for sellers (OAuth authorization code, PKCE)."""

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str: ...

    def exchange(self, *, code: str, redirect_uri: str, code_verifier: str) -> OAuthGrant:
        """Raises GatewayUnauthorized when MercadoPago refuses the code (used, expired, another verifier)."""

    def refresh(self, refresh_token: str) -> OAuthGrant:
        """Raises GatewayUnauthorized when the refresh token is no longer valid (the seller must authorise again)."""


class MercadoPagoAccountRepository(Protocol):
    def get(self) -> MercadoPagoAccount | None: ...

    def put(self, account: MercadoPagoAccount) -> None: ...

    def delete(self) -> bool:
        """False when there was none."""


class PaymentGateway(Protocol):
    collector_id: str | None  # whose account this client acts for: a shop's user id, None for the platform

    def current_account(self) -> GatewayAccount:
        """Raises GatewayUnauthorized when the credentials are refused."""

    def create_preference(self, request: CheckoutRequest) -> Preference: ...

    def get_payment(self, payment_id: str) -> GatewayPayment | None: ...

    def payments_for(self, external_reference: str) -> list[GatewayPayment]: ...

    def refund(self, payment_id: str, amount: Decimal, idempotency_key: str) -> GatewayRefund: ...


class PaymentSettingsRepository(Protocol):
    def get(self, shop_id: str) -> ShopPaymentSettings: ...

    def put(self, settings: ShopPaymentSettings) -> None: ...


class PaymentRepository(Protocol):
    def get(self, payment_id: str) -> Payment | None: ...

    def for_booking(self, booking_id: str, *, lock: bool = False) -> Payment | None: ...

    def for_bookings(self, booking_ids: Iterable[str]) -> dict[str, Payment]:
        """The payment for_booking returns (the newest), for many bookings at once, keyed by booking id;
        bookings without one are absent."""

    def add(self, payment: Payment) -> None: ...

    def update(self, payment: Payment) -> None:
        """Optimistic on `version`: raises ConcurrentRequest if someone else changed it."""

    def open_since(self, before: datetime, limit: int = 200, after: SweepKey | None = None) -> list[Payment]:
        """Pending or in-process payments created before `before` (reconciliation), oldest first,
        from after the `after` key."""

    def stale_holds(self, now: datetime, limit: int = 200) -> list[str]:
        """Ids of bookings still waiting for payment whose hold has run out (oldest bookings first)."""

    def uninvoiced(self, since: datetime, limit: int = 100, after: SweepKey | None = None) -> list[Payment]:
        """Bookings' payments taken through MercadoPago since `since` that kept money and whose
        booking has no invoice (its drafting failed outright, or a chargeback won back before
        invoicing): the retry job's list, oldest first, from after the `after` key."""


class RefundRepository(Protocol):
    def by_key(self, idempotency_key: str) -> Refund | None: ...

    def add(self, refund: Refund) -> None: ...

    def mark_done(self, refund_id: str, provider_refund_id: str) -> None: ...

    def for_payment(self, payment_id: str) -> list[Refund]: ...


class WebhookReceiptRepository(Protocol):
    def add(self, receipt_key: str, topic: str, data_id: str, received_at: datetime) -> bool:
        """False when this receipt was already recorded (a replay)."""


# --- electronic invoices ---------------------------------------------------------------------


class IvaCondition(enum.StrEnum):
    MONOTRIBUTO = "monotributo"
    RESPONSABLE_INSCRIPTO = "responsable_inscripto"


@dataclass(frozen=True)
class TaxProfile:
    tenant_id: str
    cuit: str
    legal_name: str
    address: str
    iva_condition: IvaCondition
    point_of_sale: int
    environment: str  # "homologacion" or "produccion"
    gross_income_id: str
    activity_start: date
    certificate_pem: str
    key_path: str
    # When the platform began invoicing for the business (its first profile): payments taken since
    # are invoiced automatically; earlier sales may have been invoiced outside it.
    invoicing_since: datetime | None = None


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"  # no number yet
    SENDING = "sending"  # number reserved and sent; the answer may have been lost
    AUTHORIZED = "authorized"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Invoice:
    """A booking's invoice, or a credit note against it (`credits_invoice_id` set)."""

    id: str
    tenant_id: str
    booking_id: str
    cuit: str
    point_of_sale: int
    voucher_type: int  # 1, 6, 11 Factura A, B, C; 3, 8, 13 Nota de Crédito A, B, C; 2, 7, 12 Nota de Débito A, B, C
    status: InvoiceStatus
    issue_date: date
    service_from: date
    service_to: date
    doc_type: int  # 80 CUIT, 96 DNI, 99 consumidor final sin identificar
    doc_number: str
    receiver_iva_condition: int  # CondicionIVAReceptorId
    receiver_name: str
    description: str
    total: Decimal
    net: Decimal
    vat: Decimal
    created_at: datetime
    updated_at: datetime
    payment_id: str | None = None
    number: int | None = None
    cae: str | None = None
    cae_due: date | None = None
    observations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    credits_invoice_id: str | None = None  # a credit or debit note: the invoice it corrects

    @property
    def is_correction(self) -> bool:
        """A credit or debit note against an invoice (not an invoice itself)."""
        return self.credits_invoice_id is not None

    @property
    def is_debit_note(self) -> bool:
        return self.is_correction and self.voucher_type in DEBIT_NOTE_TYPES

    @property
    def is_credit_note(self) -> bool:
        return self.is_correction and self.voucher_type not in DEBIT_NOTE_TYPES

    @property
    def kind(self) -> str:
        """ "invoice", "credit_note" or "debit_note": what each view names and titles."""
        return "debit_note" if self.is_debit_note else "credit_note" if self.is_credit_note else "invoice"

    @property
    def correction_amount(self) -> Decimal:
        """How much this note changes its invoice's amount: a credit note takes its total off, a
        debit note adds it back (0 for an invoice)."""
        if not self.is_correction:
            return Decimal("0.00")
        return self.total if self.is_debit_note else -self.total

    @property
    def formatted_number(self) -> str | None:
        """Point of sale and number as AFIP prints them (`00003-00000001`); None before authorisation."""
        return None if self.number is None else f"{self.point_of_sale:05d}-{self.number:08d}"


@dataclass(frozen=True)
class AssociatedVoucher:
    """CbteAsoc: the voucher a credit note corrects (AFIP requires it on every credit note)."""

    voucher_type: int
    point_of_sale: int
    number: int
    cuit: str
    issue_date: date


@dataclass(frozen=True)
class VoucherRequest:
    """One FECAESolicitar detail line, already numbered."""

    point_of_sale: int
    voucher_type: int
    number: int
    issue_date: date
    service_from: date
    service_to: date
    payment_due: date
    doc_type: int
    doc_number: str
    receiver_iva_condition: int
    total: Decimal
    net: Decimal
    vat: Decimal
    associated: tuple[AssociatedVoucher, ...] = ()


@dataclass(frozen=True)
class Message:
    code: int
    text: str


@dataclass(frozen=True)
class Authorization:
    approved: bool
    cae: str | None
    cae_due: date | None
    observations: tuple[Message, ...] = ()
    errors: tuple[Message, ...] = ()


@dataclass(frozen=True)
class AuthorizedVoucher:
    """What FECompConsultar returns for a number AFIP knows."""

    number: int
    issue_date: date
    doc_type: int
    doc_number: str
    total: Decimal
    cae: str
    cae_due: date


class TaxAuthorityUnreachable(Exception):
    """No answer: the request may or may not have been processed (recover by consulting)."""


class TaxAuthority(Protocol):
    """WSFEv1 for one taxpayer (authentication is the adapter's business)."""

    def last_authorized(self, point_of_sale: int, voucher_type: int) -> int: ...

    def authorize(self, request: VoucherRequest) -> Authorization: ...

    def lookup(self, point_of_sale: int, voucher_type: int, number: int) -> AuthorizedVoucher | None: ...


class NumberingLock(Protocol):
    """Serialises numbering of one (CUIT, point of sale, voucher type) across threads and processes."""

    def hold(self, key: str) -> AbstractContextManager[None]: ...


class TaxProfileRepository(Protocol):
    def get(self) -> TaxProfile | None: ...

    def put(self, profile: TaxProfile) -> None: ...


class InvoiceRepository(Protocol):
    def get(self, invoice_id: str) -> Invoice | None: ...

    def for_booking(self, booking_id: str) -> Invoice | None:
        """The booking's invoice (never one of its credit or debit notes)."""

    def for_bookings(self, booking_ids: Iterable[str]) -> dict[str, Invoice]:
        """for_booking for many bookings at once, keyed by booking id; bookings without one are absent."""

    def corrections(self, invoice_id: str) -> list[Invoice]:
        """Credit and debit notes against an invoice, oldest first."""

    def corrections_for(self, invoice_ids: Iterable[str]) -> dict[str, list[Invoice]]:
        """corrections for many invoices at once, keyed by invoice id; invoices without one are absent."""

    def add(self, invoice: Invoice) -> None:
        """Insert; an invoice returns silently if the booking already has one (check with for_booking)."""

    def update(self, invoice: Invoice) -> None: ...

    def in_flight(self, point_of_sale: int, voucher_type: int) -> list[Invoice]:
        """Invoices left SENDING: their answer was lost; recover before numbering anew."""

    def pending(self, limit: int = 100, after: SweepKey | None = None) -> list[Invoice]:
        """Draft or sending vouchers (the retry job), oldest first, from after the `after` key."""

    def uncorrected(self, limit: int = 100, after: SweepKey | None = None) -> list[Invoice]:
        """Authorised invoices that, corrected by the credit and debit notes drafted against them,
        no longer match what their payment kept (a note whose drafting failed outright): the
        retry job's list, oldest first, from after the `after` key."""

    def set_counter(self, point_of_sale: int, voucher_type: int, last_number: int) -> None: ...

    def counter(self, point_of_sale: int, voucher_type: int) -> int: ...


@dataclass(frozen=True)
class LoginTicket:
    token: str
    sign: str
    generated_at: datetime
    expires_at: datetime


class TicketRepository(Protocol):
    def get(self, cuit: str, environment: str, service: str) -> LoginTicket | None: ...

    def put(self, cuit: str, environment: str, service: str, ticket: LoginTicket) -> None: ...


class PaymentsUnitOfWork(UnitOfWork, Protocol):
    """The platform's unit of work plus the payment and invoice tables, in the same transaction."""

    payment_settings: PaymentSettingsRepository
    payments: PaymentRepository
    refunds: RefundRepository
    webhook_receipts: WebhookReceiptRepository
    tax_profiles: TaxProfileRepository
    invoices: InvoiceRepository
    tickets: TicketRepository
    mercadopago_accounts: MercadoPagoAccountRepository

    def __enter__(self) -> PaymentsUnitOfWork: ...


class PaymentsUnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: str, *, write: bool = True) -> PaymentsUnitOfWork: ...


def iter_messages(raw: list[dict[str, Any]]) -> Iterator[Message]:
    for item in raw:
        yield Message(int(item["code"]), str(item["text"]))


class PrepaymentPolicy(Protocol):
    """Asked by book_appointment: must this shop's bookings be paid before they are confirmed?"""

    def hold_for(self, tenant_id: str, shop_id: str) -> timedelta | None:
        """How long an unpaid booking keeps its slot; None when the shop takes no prepayment."""
