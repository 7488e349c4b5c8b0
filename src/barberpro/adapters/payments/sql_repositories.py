"""Tenant-scoped SQL repositories for shop payment settings, payments, refunds and webhook receipts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, delete, exists, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.repositories import id_chunks
from barberpro.adapters.security.secret_box import SecretBox
from barberpro.application.payment_ports import (
    CREDITABLE_PAYMENTS,
    Chargeback,
    MercadoPagoAccount,
    Payment,
    PaymentMode,
    PaymentStatus,
    Refund,
    RefundStatus,
    ShopPaymentSettings,
    SweepKey,
)
from barberpro.domain.errors import ConcurrentRequest, PolicyViolation

_P = t.payments.c
_R = t.refunds.c
_S = t.shop_payment_settings.c
_A = t.mercadopago_accounts.c
_OPEN = (PaymentStatus.PENDING.value, PaymentStatus.IN_PROCESS.value)
# A booking's payment is its newest one (a checkout started again after a rejected payment keeps the
# older row); single and batch reads pick it by this one ordering.
_NEWEST_FIRST = (_P.created_at.desc(), _P.id)
_CREDITABLE = [s.value for s in CREDITABLE_PAYMENTS]


def kept_amount() -> ColumnElement[Any]:
    """Payment.kept in SQL: paid less refunds, nothing once a chargeback was settled against the shop."""
    return case(
        (and_(_P.status == PaymentStatus.CHARGED_BACK.value, _P.chargeback == Chargeback.SETTLED.value), 0),
        (_P.paid_amount > _P.refunded_amount, _P.paid_amount - _P.refunded_amount),
        else_=0,
    )


class _Scoped:
    def __init__(self, connection: Connection, tenant_id: str) -> None:
        self._c = connection
        self._tenant = tenant_id


class SqlPaymentSettingsRepository(_Scoped):
    def get(self, shop_id: str) -> ShopPaymentSettings:
        row = self._c.execute(
            select(t.shop_payment_settings).where(_S.tenant_id == self._tenant, _S.shop_id == shop_id)
        ).one_or_none()
        if row is None:
            return ShopPaymentSettings(shop_id=shop_id)
        return ShopPaymentSettings(
            shop_id=row.shop_id,
            mode=PaymentMode(row.mode),
            deposit_percent=row.deposit_percent,
            hold_minutes=row.hold_minutes,
            late_refund_percent=row.late_refund_percent,
        )

    def put(self, settings: ShopPaymentSettings) -> None:
        values = {
            "mode": settings.mode.value,
            "deposit_percent": settings.deposit_percent,
            "hold_minutes": settings.hold_minutes,
            "late_refund_percent": settings.late_refund_percent,
        }
        changed = self._c.execute(
            update(t.shop_payment_settings)
            .where(_S.tenant_id == self._tenant, _S.shop_id == settings.shop_id)
            .values(**values)
        )
        if changed.rowcount == 0:
            self._c.execute(
                insert(t.shop_payment_settings).values(shop_id=settings.shop_id, tenant_id=self._tenant, **values)
            )


def _payment(row: Any) -> Payment:
    return Payment(
        id=row.id,
        tenant_id=row.tenant_id,
        booking_id=row.booking_id,
        amount=Decimal(row.amount),
        status=PaymentStatus(row.status),
        hold_until=row.hold_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        provider=row.provider,
        preference_id=row.preference_id,
        checkout_url=row.checkout_url,
        provider_payment_id=row.provider_payment_id,
        paid_amount=Decimal(row.paid_amount),
        refunded_amount=Decimal(row.refunded_amount),
        provider_updated_at=row.provider_updated_at,
        version=row.version,
        collector_id=row.collector_id,
        chargeback=Chargeback(row.chargeback) if row.chargeback else None,
    )


def _payment_row(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "booking_id": payment.booking_id,
        "provider": payment.provider,
        "preference_id": payment.preference_id,
        "checkout_url": payment.checkout_url,
        "provider_payment_id": payment.provider_payment_id,
        "status": payment.status.value,
        "amount": payment.amount,
        "paid_amount": payment.paid_amount,
        "refunded_amount": payment.refunded_amount,
        "hold_until": payment.hold_until,
        "provider_updated_at": payment.provider_updated_at,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "version": payment.version,
        "collector_id": payment.collector_id,
        "chargeback": payment.chargeback.value if payment.chargeback else None,
    }


class SqlPaymentRepository(_Scoped):
    def get(self, payment_id: str) -> Payment | None:
        row = self._c.execute(select(t.payments).where(_P.tenant_id == self._tenant, _P.id == payment_id)).one_or_none()
        return _payment(row) if row else None

    def for_booking(self, booking_id: str, *, lock: bool = False) -> Payment | None:
        query = (
            select(t.payments)
            .where(_P.tenant_id == self._tenant, _P.booking_id == booking_id)
            .order_by(*_NEWEST_FIRST)
            .limit(1)
        )
        if lock:  # PostgreSQL: two notifications for one payment apply one after the other
            query = query.with_for_update()
        row = self._c.execute(query).first()
        return _payment(row) if row else None

    def for_bookings(self, booking_ids: Iterable[str]) -> dict[str, Payment]:
        found: dict[str, Payment] = {}
        for chunk in id_chunks(booking_ids):
            rows = self._c.execute(
                select(t.payments)
                .where(_P.tenant_id == self._tenant, _P.booking_id.in_(chunk))
                .order_by(*_NEWEST_FIRST)
            )
            for row in rows:
                if row.booking_id not in found:  # the database's order picks it, as in for_booking
                    found[row.booking_id] = _payment(row)
        return found

    def add(self, payment: Payment) -> None:
        self._c.execute(insert(t.payments).values(_payment_row(payment) | {"tenant_id": self._tenant}))

    def update(self, payment: Payment) -> None:
        try:
            result = self._c.execute(
                update(t.payments)
                .where(_P.tenant_id == self._tenant, _P.id == payment.id, _P.version == payment.version - 1)
                .values(_payment_row(payment))
            )
        except IntegrityError as error:  # the same gateway payment claimed by two rows
            raise ConcurrentRequest("this payment was applied meanwhile") from error
        if result.rowcount != 1:
            raise ConcurrentRequest("the payment changed meanwhile; retry")

    def open_since(self, before: datetime, limit: int = 200, after: SweepKey | None = None) -> list[Payment]:
        query = select(t.payments).where(_P.tenant_id == self._tenant, _P.status.in_(_OPEN), _P.created_at < before)
        if after is not None:
            query = query.where(tuple_(_P.created_at, _P.id) > tuple_(*after))
        return [_payment(r) for r in self._c.execute(query.order_by(_P.created_at, _P.id).limit(limit))]

    def uninvoiced(self, since: datetime, limit: int = 100, after: SweepKey | None = None) -> list[Payment]:
        newer = t.payments.alias("newer")
        i = t.invoices.c
        query = select(t.payments).where(
            _P.tenant_id == self._tenant,
            _P.status.in_(_CREDITABLE),
            _P.created_at >= since,
            # Amounts are in cents: half a cent is money (SQLite may compute in floats).
            kept_amount() >= 0.005,
            # The booking's payment is its newest one (by _NEWEST_FIRST's ordering).
            ~exists().where(
                newer.c.tenant_id == _P.tenant_id,
                newer.c.booking_id == _P.booking_id,
                or_(
                    newer.c.created_at > _P.created_at,
                    and_(newer.c.created_at == _P.created_at, newer.c.id < _P.id),
                ),
            ),
            ~exists().where(i.tenant_id == _P.tenant_id, i.booking_id == _P.booking_id, i.credits_invoice_id.is_(None)),
        )
        if after is not None:
            query = query.where(tuple_(_P.created_at, _P.id) > tuple_(*after))
        return [_payment(r) for r in self._c.execute(query.order_by(_P.created_at, _P.id).limit(limit))]

    def stale_holds(self, now: datetime, limit: int = 200) -> list[str]:
        """Bookings still waiting for payment whose hold has run out (with or without a checkout)."""
        b = t.bookings.c
        rows = self._c.execute(
            select(b.id, b.shop_id, b.created_at, _P.hold_until, _P.status)
            .select_from(t.bookings.outerjoin(t.payments, _P.booking_id == b.id))
            .where(b.tenant_id == self._tenant, b.status == "pending_payment")
            # The oldest first: they are the ones whose hold ran out (the rest wait for a later run).
            .order_by(b.created_at, b.id)
            .limit(limit * 4)
        ).all()
        settings = SqlPaymentSettingsRepository(self._c, self._tenant)
        holds: dict[str, datetime] = {}
        for row in rows:
            until = row.hold_until or row.created_at + settings.get(row.shop_id).hold
            holds[row.id] = max(holds.get(row.id, until), until)
        return [booking_id for booking_id, until in holds.items() if until <= now][:limit]


def _refund(row: Any) -> Refund:
    return Refund(
        id=row.id,
        tenant_id=row.tenant_id,
        payment_id=row.payment_id,
        idempotency_key=row.idempotency_key,
        amount=Decimal(row.amount),
        status=RefundStatus(row.status),
        reason=row.reason,
        created_at=row.created_at,
        provider_refund_id=row.provider_refund_id,
    )


class SqlRefundRepository(_Scoped):
    def by_key(self, idempotency_key: str) -> Refund | None:
        row = self._c.execute(
            select(t.refunds).where(_R.tenant_id == self._tenant, _R.idempotency_key == idempotency_key)
        ).one_or_none()
        return _refund(row) if row else None

    def add(self, refund: Refund) -> None:
        try:
            with self._c.begin_nested():
                self._c.execute(
                    insert(t.refunds).values(
                        id=refund.id,
                        tenant_id=self._tenant,
                        payment_id=refund.payment_id,
                        idempotency_key=refund.idempotency_key,
                        amount=refund.amount,
                        status=refund.status.value,
                        reason=refund.reason,
                        provider_refund_id=refund.provider_refund_id,
                        created_at=refund.created_at,
                    )
                )
        except IntegrityError as error:
            raise ConcurrentRequest("this refund is already being processed") from error

    def mark_done(self, refund_id: str, provider_refund_id: str) -> None:
        self._c.execute(
            update(t.refunds)
            .where(_R.tenant_id == self._tenant, _R.id == refund_id)
            .values(status=RefundStatus.DONE.value, provider_refund_id=provider_refund_id)
        )

    def for_payment(self, payment_id: str) -> list[Refund]:
        rows = self._c.execute(
            select(t.refunds)
            .where(_R.tenant_id == self._tenant, _R.payment_id == payment_id)
            .order_by(_R.created_at, _R.id)
        )
        return [_refund(r) for r in rows]


class SqlWebhookReceiptRepository(_Scoped):
    def add(self, receipt_key: str, topic: str, data_id: str, received_at: datetime) -> bool:
        try:
            with self._c.begin_nested():
                self._c.execute(
                    insert(t.webhook_receipts).values(
                        tenant_id=self._tenant,
                        receipt_key=receipt_key[:200],
                        topic=topic[:40],
                        data_id=data_id[:64],
                        received_at=received_at,
                    )
                )
        except IntegrityError:
            return False
        return True


class SqlMercadoPagoAccountRepository(_Scoped):
    """Credentials sealed on the way in and opened on the way out; each bound to its tenant and field."""

    def __init__(self, connection: Connection, tenant_id: str, box: SecretBox | None) -> None:
        super().__init__(connection, tenant_id)
        self._box = box

    def _sealing(self) -> SecretBox:
        if self._box is None:
            raise PolicyViolation(
                "shop MercadoPago accounts need BARBERPRO_SECRETS_KEY (32 bytes, base64) on the server",
                field="access_token",
            )
        return self._box

    def get(self) -> MercadoPagoAccount | None:
        row = self._c.execute(select(t.mercadopago_accounts).where(_A.tenant_id == self._tenant)).one_or_none()
        if row is None:
            return None
        box = self._sealing()
        return MercadoPagoAccount(
            tenant_id=row.tenant_id,
            user_id=row.user_id,
            access_token=box.open(row.access_token_sealed, f"{self._tenant}:access_token"),
            webhook_secret=box.open(row.webhook_secret_sealed, f"{self._tenant}:webhook_secret"),
            live_mode=row.live_mode,
            connected_at=row.connected_at,
            via=row.via,
            refresh_token=(
                box.open(row.refresh_token_sealed, f"{self._tenant}:refresh_token")
                if row.refresh_token_sealed is not None
                else None
            ),
            expires_at=row.expires_at,
            renewal_refused_at=row.renewal_refused_at,
        )

    def put(self, account: MercadoPagoAccount) -> None:
        box = self._sealing()
        values = {
            "user_id": account.user_id,
            "access_token_sealed": box.seal(account.access_token, f"{self._tenant}:access_token"),
            "webhook_secret_sealed": box.seal(account.webhook_secret, f"{self._tenant}:webhook_secret"),
            "live_mode": account.live_mode,
            "connected_at": account.connected_at,
            "via": account.via,
            "refresh_token_sealed": (
                box.seal(account.refresh_token, f"{self._tenant}:refresh_token") if account.refresh_token else None
            ),
            "expires_at": account.expires_at,
            "renewal_refused_at": account.renewal_refused_at,
        }
        changed = self._c.execute(update(t.mercadopago_accounts).where(_A.tenant_id == self._tenant).values(**values))
        if changed.rowcount == 0:
            self._c.execute(insert(t.mercadopago_accounts).values(tenant_id=self._tenant, **values))

    def delete(self) -> bool:
        removed = self._c.execute(delete(t.mercadopago_accounts).where(_A.tenant_id == self._tenant))
        return bool(removed.rowcount)
