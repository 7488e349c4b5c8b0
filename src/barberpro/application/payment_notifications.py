"""Applying what MercadoPago reports: notifications, reconciliation, expired holds, money to give back.

The gateway is always asked for the payment's current state; a notification only says
"look at payment N". That makes duplicated, replayed and out-of-order notifications
harmless: applying the same state twice changes nothing, states never move backwards, and a
forged id either does not exist at the gateway or belongs to no booking of this tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.pagination import sweep
from barberpro.application.payment_ports import (
    Chargeback,
    GatewayPayment,
    GatewayUnauthorized,
    Payment,
    PaymentGateway,
    PaymentStatus,
    PaymentsUnitOfWork,
    PaymentsUnitOfWorkFactory,
    Refund,
    SweepKey,
)
from barberpro.application.payments import payment_event, refund_payment
from barberpro.domain.booking import SYSTEM, Booking, BookingStatus
from barberpro.domain.events import booking_event


@dataclass(frozen=True)
class Applied:
    """What applying a gateway payment did; `refund` asks the caller to return money after commit."""

    outcome: str  # confirmed, unchanged, ignored, in_process, rejected, refunded, charged_back, ...
    booking_id: str | None = None
    payment: Payment | None = None
    refund: Decimal = Decimal("0.00")
    refund_key: str = ""
    latency_seconds: float | None = None


def apply_gateway_payment(uow: PaymentsUnitOfWork, ctx: Context, found: GatewayPayment) -> Applied:
    """Bring the local payment and booking in line with the gateway's current state."""
    with uow:
        booking = uow.bookings.get(found.external_reference) if found.external_reference else None
        local = uow.payments.for_booking(booking.id, lock=True) if booking else None
        if booking is None or local is None:
            return Applied("ignored")  # not ours: another tenant, a forged id, or no checkout
        if local.provider_payment_id not in (None, found.id):
            if found.status == "approved" and local.status is PaymentStatus.APPROVED:
                # Paid twice for one booking (two tabs): give the second payment back in full.
                return Applied(
                    "duplicate", booking.id, local, found.amount - found.refunded_amount, f"duplicate-{found.id}"
                )
            return Applied("unchanged", booking.id, local)
        if local.provider_updated_at is not None and found.updated_at < local.provider_updated_at:
            return Applied("unchanged", booking.id, local)  # an older state arriving late
        updated, outcome, refund, key = _next_state(local, booking, found, ctx.now)
        latency = None
        if updated == local:
            return Applied("unchanged", booking.id, local)
        uow.payments.update(updated)
        record(
            uow,
            ctx,
            action=f"Payment{outcome.title().replace('_', '')}",
            entity_type="payment",
            entity_id=local.id,
            before=local,
            after=updated,
            event=payment_event(f"Payment{outcome.title().replace('_', '')}", updated, ctx.now),
        )
        if outcome == "confirmed":
            confirmed = booking.confirm()
            uow.bookings.update(confirmed)
            record(
                uow,
                ctx,
                action="BookingConfirmed",
                entity_type="booking",
                entity_id=booking.id,
                before=booking,
                after=confirmed,
                event=booking_event("BookingConfirmed", confirmed, ctx.now, paid=str(updated.paid_amount)),
            )
            latency = max(0.0, (ctx.now - local.created_at).total_seconds())
        elif outcome == "charged_back":
            # The booking keeps its status; staff see the chargeback on it and in the audit trail.
            # One settled against the shop is then credited, one won after that debited back
            # (`invoicing.correct_invoice`).
            record(
                uow,
                ctx,
                action="BookingChargedBack",
                entity_type="booking",
                entity_id=booking.id,
                after={
                    "payment_id": local.id,
                    "amount": str(updated.paid_amount),
                    "chargeback": updated.chargeback.value if updated.chargeback else None,
                },
                event=booking_event("BookingChargedBack", booking, ctx.now),
            )
        uow.commit()
        return Applied(outcome, booking.id, updated, refund, key, latency)


def _next_state(
    local: Payment, booking: Booking, found: GatewayPayment, now: datetime
) -> tuple[Payment, str, Decimal, str]:
    base = replace(
        local,
        provider_payment_id=found.id,
        provider_updated_at=found.updated_at,
        updated_at=now,
        version=local.version + 1,
    )
    zero = Decimal("0.00")
    if found.status == "charged_back":
        chargeback = Chargeback.from_detail(found.status_detail)
        if local.status is PaymentStatus.CHARGED_BACK and local.chargeback is chargeback:
            return local, "unchanged", zero, ""
        return replace(base, status=PaymentStatus.CHARGED_BACK, chargeback=chargeback), "charged_back", zero, ""
    if found.status in ("refunded", "approved") and found.refunded_amount > zero:
        full = found.refunded_amount >= found.amount
        status = PaymentStatus.REFUNDED if full else PaymentStatus.APPROVED
        refunded = max(local.refunded_amount, found.refunded_amount)
        if local.status is status and refunded == local.refunded_amount:
            return local, "unchanged", zero, ""
        return replace(base, status=status, paid_amount=found.amount, refunded_amount=refunded), "refunded", zero, ""
    if found.status == "approved":
        if local.status in (PaymentStatus.APPROVED, PaymentStatus.REFUNDED, PaymentStatus.CHARGED_BACK):
            return local, "unchanged", zero, ""
        paid = replace(base, status=PaymentStatus.APPROVED, paid_amount=found.amount)
        if found.currency != "ARS" or found.amount < local.amount:
            return paid, "underpaid", found.amount, f"underpaid-{found.id}"
        if booking.status is BookingStatus.PENDING_PAYMENT:
            return paid, "confirmed", zero, ""
        # Paid after the hold expired and the slot was released: the money goes back. Same key as a
        # cancellation refund, so the two paths can never both pay out.
        return paid, "late", found.amount, f"cancel-{booking.id}"
    if found.status in ("pending", "in_process", "authorized"):
        if local.status is not PaymentStatus.PENDING:
            return local, "unchanged", zero, ""
        return replace(base, status=PaymentStatus.IN_PROCESS), "in_process", zero, ""
    if found.status in ("rejected", "cancelled"):
        if local.status not in (PaymentStatus.PENDING, PaymentStatus.IN_PROCESS):
            return local, "unchanged", zero, ""
        # The customer may try another card on the same preference while the hold lasts.
        return replace(base, status=PaymentStatus.PENDING, provider_payment_id=None), "rejected", zero, ""
    return local, "unchanged", zero, ""


@dataclass(frozen=True)
class ReconcileReport:
    checked: int = 0
    applied: int = 0
    expired: int = 0


def reconcile(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    gateway_for: Callable[[Payment | None], PaymentGateway],
    *,
    older_than: timedelta,
) -> tuple[ReconcileReport, list[Applied]]:
    """For notifications that never came: ask the gateway, apply, and release unpaid expired holds.

    Each booking's payments are asked of the account its checkout went to (`gateway_for` of its
    payment): a shop that connected its own account meanwhile still has earlier checkouts at the
    platform's. A booking whose account can no longer be asked is left to its hold's expiry.
    """

    def open_payments(after: SweepKey | None) -> list[Payment]:
        with uows(ctx.tenant_id, write=False) as uow:
            return uow.payments.open_since(ctx.now - older_than, after=after)

    stale = list(sweep(open_payments, lambda payment: (payment.created_at, payment.id)))
    with uows(ctx.tenant_id, write=False) as uow:
        expired_ids = uow.payments.stale_holds(ctx.now)
        booking_ids = list(dict.fromkeys([p.booking_id for p in stale] + expired_ids))
        taken = uow.payments.for_bookings(booking_ids)
    applied: list[Applied] = []
    for booking_id in booking_ids:
        try:
            found = gateway_for(taken.get(booking_id)).payments_for(booking_id)
        except GatewayUnauthorized:
            continue
        best = next((p for p in found if p.status == "approved"), found[0] if found else None)
        if best is not None:
            result = apply_gateway_payment(uows(ctx.tenant_id), ctx, best)
            if result.outcome not in ("unchanged", "ignored"):
                applied.append(result)
    expired = 0
    for booking_id in expired_ids:
        if _expire_hold(uows(ctx.tenant_id), ctx, booking_id):
            expired += 1
    return ReconcileReport(len(booking_ids), len(applied), expired), applied


def _expire_hold(uow: PaymentsUnitOfWork, ctx: Context, booking_id: str) -> bool:
    with uow:
        booking = uow.bookings.get(booking_id)
        if booking is None or booking.status is not BookingStatus.PENDING_PAYMENT:
            return False
        shop = uow.shops.get(booking.shop_id)
        if shop is None:  # pragma: no cover - foreign key
            return False
        cancelled = booking.cancel(SYSTEM, ctx.now, shop.policy)
        uow.bookings.update(cancelled)
        record(
            uow,
            ctx,
            action="BookingHoldExpired",
            entity_type="booking",
            entity_id=booking.id,
            before=booking,
            after=cancelled,
            event=booking_event("BookingCancelled", cancelled, ctx.now, reason="payment hold expired"),
        )
        payment = uow.payments.for_booking(booking.id, lock=True)
        if payment is not None and payment.status in (PaymentStatus.PENDING, PaymentStatus.IN_PROCESS):
            uow.payments.update(
                replace(payment, status=PaymentStatus.EXPIRED, updated_at=ctx.now, version=payment.version + 1)
            )
        uow.commit()
        return True


def settle_refund(
    uows: PaymentsUnitOfWorkFactory, ctx: Context, gateway: PaymentGateway, applied: Applied
) -> Refund | None:
    """Return money that `apply_gateway_payment` found should not have been taken (late, twice, short)."""
    if applied.refund <= 0 or applied.booking_id is None or applied.payment is None:
        return None
    target = (
        applied.payment.provider_payment_id if applied.outcome != "duplicate" else applied.refund_key.split("-", 1)[1]
    )
    return refund_payment(
        uows,
        ctx,
        gateway,
        applied.booking_id,
        amount=applied.refund,
        idempotency_key=applied.refund_key,
        reason=applied.outcome,
        provider_payment_id=target,
    )


def process_notification(
    uows: PaymentsUnitOfWorkFactory, ctx: Context, gateway: PaymentGateway, provider_payment_id: str
) -> Applied:
    """A verified notification named a payment: fetch it, apply it, give back what must go back."""
    found = gateway.get_payment(provider_payment_id)
    if found is None:
        return Applied("ignored")
    applied = apply_gateway_payment(uows(ctx.tenant_id), ctx, found)
    settle_refund(uows, ctx, gateway, applied)
    return applied


def receive_notification(uow: PaymentsUnitOfWork, ctx: Context, *, receipt_key: str, topic: str, data_id: str) -> bool:
    """Record a verified notification; False when this delivery was seen before (a replay)."""
    with uow:
        if not uow.webhook_receipts.add(receipt_key, topic, data_id, ctx.now):
            return False
        record(
            uow,
            ctx,
            action="PaymentNotificationReceived",
            entity_type="payment_notification",
            entity_id=data_id[:36],
            after={"topic": topic, "data_id": data_id, "receipt": receipt_key},
        )
        uow.commit()
        return True
