"""The platform's SQL unit of work, extended with the payment and invoice repositories."""

from __future__ import annotations

from datetime import timedelta

from barberpro.adapters.db.engine import Database
from barberpro.adapters.db.unit_of_work import SqlUnitOfWork
from barberpro.adapters.invoicing.sql_repositories import (
    SqlInvoiceRepository,
    SqlTaxProfileRepository,
    SqlTicketRepository,
)
from barberpro.adapters.payments.sql_repositories import (
    SqlMercadoPagoAccountRepository,
    SqlPaymentRepository,
    SqlPaymentSettingsRepository,
    SqlRefundRepository,
    SqlWebhookReceiptRepository,
)
from barberpro.adapters.security.secret_box import SecretBox
from barberpro.application import payment_ports as pp


class SqlPaymentsUnitOfWork(SqlUnitOfWork):
    """Same connection, same transaction (and, on PostgreSQL, the same row-level security scope)."""

    payment_settings: pp.PaymentSettingsRepository
    payments: pp.PaymentRepository
    refunds: pp.RefundRepository
    webhook_receipts: pp.WebhookReceiptRepository
    tax_profiles: pp.TaxProfileRepository
    invoices: pp.InvoiceRepository
    tickets: pp.TicketRepository
    mercadopago_accounts: pp.MercadoPagoAccountRepository

    def __init__(self, database: Database, tenant_id: str, *, write: bool = True, box: SecretBox | None = None) -> None:
        super().__init__(database, tenant_id, write=write)
        self._box = box

    def __enter__(self) -> SqlPaymentsUnitOfWork:
        super().__enter__()
        assert self._connection is not None
        scope = (self._connection, self.tenant_id)
        self.payment_settings = SqlPaymentSettingsRepository(*scope)
        self.payments = SqlPaymentRepository(*scope)
        self.refunds = SqlRefundRepository(*scope)
        self.webhook_receipts = SqlWebhookReceiptRepository(*scope)
        self.tax_profiles = SqlTaxProfileRepository(*scope)
        self.invoices = SqlInvoiceRepository(*scope)
        self.tickets = SqlTicketRepository(*scope)
        self.mercadopago_accounts = SqlMercadoPagoAccountRepository(*scope, self._box)
        return self


class SqlPaymentsUnitOfWorkFactory:
    def __init__(self, database: Database, box: SecretBox | None = None) -> None:
        self.database = database
        self.box = box  # seals shop MercadoPago credentials; None: shops cannot connect their own

    def __call__(self, tenant_id: str, *, write: bool = True) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(self.database, tenant_id, write=write, box=self.box)


class SqlPrepaymentPolicy:
    """book_appointment's question, answered from shop_payment_settings (own short read)."""

    def __init__(self, uows: SqlPaymentsUnitOfWorkFactory) -> None:
        self._uows = uows

    def hold_for(self, tenant_id: str, shop_id: str) -> timedelta | None:
        with self._uows(tenant_id, write=False) as uow:
            return uow.payment_settings.get(shop_id).prepayment_hold


class InTransactionPrepaymentPolicy:
    """The same question asked through a unit of work that is already open (the booking's own),
    so that a booking is one transaction, not two."""

    def __init__(self, uow: SqlPaymentsUnitOfWork) -> None:
        self._uow = uow

    def hold_for(self, tenant_id: str, shop_id: str) -> timedelta | None:
        return self._uow.payment_settings.get(shop_id).prepayment_hold
