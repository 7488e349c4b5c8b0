"""Use cases of prepaid bookings: shop settings, checkout, refunds (notifications: payment_notifications.py).

Gateway calls happen outside database transactions (no lock is held across the network).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.payment_ports import (
    CheckoutRequest,
    Payment,
    PaymentGateway,
    PaymentMode,
    PaymentStatus,
    PaymentsUnitOfWork,
    PaymentsUnitOfWorkFactory,
    Refund,
    RefundStatus,
    ShopPaymentSettings,
)
from barberpro.domain.booking import ActorKind, Booking, BookingStatus, Role
from barberpro.domain.errors import InvalidValue, NotFound, PermissionDenied, PolicyViolation
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id

CENT = Decimal("0.01")


def _ensure_manager(ctx: Context) -> None:
    if ctx.actor.kind is ActorKind.SYSTEM:
        return
    if ctx.actor.kind is not ActorKind.STAFF or ctx.actor.role not in (Role.OWNER, Role.MANAGER):
        raise PermissionDenied("only owners and managers handle payments")


def amount_due(settings: ShopPaymentSettings, price: Decimal) -> Decimal:
    if settings.mode is PaymentMode.FULL:
        return price.quantize(CENT)
    share = price * Decimal(settings.deposit_percent) / Decimal(100)
    return share.quantize(CENT, rounding=ROUND_HALF_UP)


def refund_due(payment: Payment, booking: Booking, *, cutoff: timedelta, late_percent: int, now: datetime) -> Decimal:
    """Cancellation refund: all of it before the shop's cut-off, the late share after it."""
    if now <= booking.start - cutoff:
        return payment.refundable
    late = (payment.paid_amount * Decimal(late_percent) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(Decimal("0.00"), min(late - payment.refunded_amount, payment.refundable))


def payment_event(name: str, payment: Payment, now: datetime, **data: object) -> DomainEvent:
    return DomainEvent(
        name=name,
        tenant_id=payment.tenant_id,
        entity_id=payment.booking_id,
        occurred_at=now,
        data={"payment_id": payment.id, "status": payment.status.value, "paid": str(payment.paid_amount), **data},
    )


def configure_shop_payments(uow: PaymentsUnitOfWork, ctx: Context, settings: ShopPaymentSettings) -> None:
    _ensure_manager(ctx)
    if not 1 <= settings.deposit_percent <= 100:
        raise InvalidValue("deposit_percent must be from 1 to 100", field="deposit_percent")
    if not 5 <= settings.hold_minutes <= 24 * 60:
        raise InvalidValue("hold_minutes must be from 5 to 1440", field="hold_minutes")
    if not 0 <= settings.late_refund_percent <= 100:
        raise InvalidValue("late_refund_percent must be from 0 to 100", field="late_refund_percent")
    with uow:
        if uow.shops.get(settings.shop_id) is None:
            raise NotFound("shop not found", field="shop_id")
        before = uow.payment_settings.get(settings.shop_id)
        uow.payment_settings.put(settings)
        record(
            uow,
            ctx,
            action="ShopPaymentSettingsChanged",
            entity_type="shop",
            entity_id=settings.shop_id,
            before=before,
            after=settings,
        )
        uow.commit()


def start_checkout(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    gateway: PaymentGateway,
    booking_id: str,
    *,
    notification_url: str,
    back_url: str,
) -> Payment:
    """A Checkout Pro preference for a booking waiting for payment; expires with the slot hold."""
    with uows(ctx.tenant_id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound("booking not found", field="booking_id")
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            raise PolicyViolation(f"a {booking.status.value} booking needs no payment", field="booking_id")
        existing = uow.payments.for_booking(booking.id)
        if existing is not None and existing.checkout_url and existing.status is PaymentStatus.PENDING:
            return existing  # a retried checkout gets the same preference
        settings = uow.payment_settings.get(booking.shop_id)
        service = uow.services.get(booking.service_id) if booking.service_id else None
        customer = uow.customers.get(booking.customer_id) if booking.customer_id else None
    hold_until = booking.created_at + settings.hold
    if hold_until <= ctx.now:
        raise PolicyViolation("the hold on this slot has expired; please book again", field="booking_id")
    amount = amount_due(settings, booking.price)
    preference = gateway.create_preference(
        CheckoutRequest(
            booking_id=booking.id,
            title=f"{'Seña' if settings.mode is PaymentMode.DEPOSIT else 'Turno'}: {service.name if service else ''}",
            amount=amount,
            payer_name=customer.name if customer else "",
            payer_email=customer.email if customer else "",
            expires_at=hold_until,
            notification_url=notification_url,
            back_url=back_url,
        )
    )
    payment = Payment(
        id=new_id(),
        tenant_id=ctx.tenant_id,
        booking_id=booking.id,
        amount=amount,
        status=PaymentStatus.PENDING,
        hold_until=hold_until,
        created_at=ctx.now,
        updated_at=ctx.now,
        preference_id=preference.id,
        checkout_url=preference.checkout_url,
        collector_id=gateway.collector_id,
    )
    with uows(ctx.tenant_id) as uow:
        raced = uow.payments.for_booking(booking.id)
        if raced is not None and raced.status is PaymentStatus.PENDING and raced.checkout_url:
            return raced
        uow.payments.add(payment)
        record(uow, ctx, action="CheckoutStarted", entity_type="payment", entity_id=payment.id, after=payment)
        uow.commit()
    return payment


def refund_payment(
    uows: PaymentsUnitOfWorkFactory,
    ctx: Context,
    gateway: PaymentGateway,
    booking_id: str,
    *,
    amount: Decimal | None,
    idempotency_key: str,
    reason: str,
    provider_payment_id: str | None = None,
) -> Refund | None:
    """Return money at most once per key: the refund row is written before the gateway call and
    the gateway is called with the same key on every retry, so a lost answer cannot pay twice."""
    _ensure_manager(ctx)
    with uows(ctx.tenant_id) as uow:
        payment = uow.payments.for_booking(booking_id, lock=True)
        if payment is None:
            raise NotFound("this booking has no payment", field="booking_id")
        refund = uow.refunds.by_key(idempotency_key)
        if refund is None:
            outside = provider_payment_id not in (None, payment.provider_payment_id)
            if not outside and payment.status is PaymentStatus.CHARGED_BACK:
                # The card issuer holds or returned the money; MercadoPago refuses a refund of it.
                raise PolicyViolation("a charged-back payment cannot be refunded", field="booking_id")
            available = amount if outside and amount is not None else payment.refundable
            wanted = (available if amount is None else amount).quantize(CENT)
            if wanted <= 0:
                return None
            if not outside and wanted > payment.refundable:
                raise PolicyViolation(f"at most {payment.refundable} can be refunded", field="amount")
            refund = Refund(
                new_id(),
                ctx.tenant_id,
                payment.id,
                idempotency_key,
                wanted,
                RefundStatus.REQUESTED,
                reason[:200],
                ctx.now,
            )
            uow.refunds.add(refund)
            record(uow, ctx, action="RefundRequested", entity_type="payment", entity_id=payment.id, after=refund)
            uow.commit()
        target = provider_payment_id or payment.provider_payment_id
    if refund.status is RefundStatus.DONE:
        return refund
    if target is None:
        raise PolicyViolation("the payment has not been made", field="booking_id")
    made = gateway.refund(target, refund.amount, refund.idempotency_key)
    with uows(ctx.tenant_id) as uow:
        current = uow.refunds.by_key(idempotency_key)
        payment = uow.payments.for_booking(booking_id, lock=True)
        if current is None or payment is None or current.status is RefundStatus.DONE:
            return current
        uow.refunds.mark_done(current.id, made.id)
        if target == payment.provider_payment_id:
            refunded = payment.refunded_amount + current.amount
            after = replace(
                payment,
                refunded_amount=refunded,
                updated_at=ctx.now,
                version=payment.version + 1,
                status=PaymentStatus.REFUNDED if refunded >= payment.paid_amount else payment.status,
            )
            uow.payments.update(after)
        record(
            uow,
            ctx,
            action="RefundMade",
            entity_type="payment",
            entity_id=payment.id,
            after={"refund_id": current.id, "amount": str(current.amount), "provider_refund_id": made.id},
            event=payment_event("RefundMade", payment, ctx.now, amount=str(current.amount)),
        )
        uow.commit()
        return replace(current, status=RefundStatus.DONE, provider_refund_id=made.id)


def refund_for_cancellation(
    uows: PaymentsUnitOfWorkFactory, ctx: Context, gateway: PaymentGateway, booking_id: str
) -> Refund | None:
    """After a cancellation: what the shop's policy gives back, once (the key is the booking's)."""
    with uows(ctx.tenant_id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
        payment = uow.payments.for_booking(booking_id)
        if booking is None or payment is None or booking.status is not BookingStatus.CANCELLED:
            return None
        if payment.status is not PaymentStatus.APPROVED:
            return None
        shop = uow.shops.get(booking.shop_id)
        settings = uow.payment_settings.get(booking.shop_id)
        existing = uow.refunds.by_key(f"cancel-{booking_id}")
    if shop is None:  # pragma: no cover - foreign key
        return None
    amount = (
        existing.amount
        if existing
        else refund_due(
            payment,
            booking,
            cutoff=shop.policy.customer_change_cutoff,
            late_percent=settings.late_refund_percent,
            now=ctx.now,
        )
    )
    if amount <= 0:
        return None
    return refund_payment(
        uows,
        ctx,
        gateway,
        booking_id,
        amount=amount,
        idempotency_key=f"cancel-{booking_id}",
        reason="booking cancelled",
    )
