"""Use cases of a booking's life: book, cancel, reschedule, complete, no-show, block time."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from barberpro.application.audit import record
from barberpro.application.availability import bookable_barbers, load_shop_service, slots_for
from barberpro.application.context import Context
from barberpro.application.payment_ports import PrepaymentPolicy
from barberpro.application.ports import IdempotencyRecord, UnitOfWork
from barberpro.domain.booking import (
    ActorKind,
    Booking,
    BookingStatus,
    ensure_staff_may_touch,
)
from barberpro.domain.consent import ConsentChannel, PrivacyConsent
from barberpro.domain.customers import Customer, normalise_phone
from barberpro.domain.errors import (
    IdempotencyConflict,
    InvalidValue,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    SlotUnavailable,
)
from barberpro.domain.events import booking_event
from barberpro.domain.identifiers import new_id
from barberpro.domain.slots import local_day_bounds
from barberpro.domain.tenancy import Barber, Service, Shop


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    phone: str
    email: str
    dni: str | None = None


@dataclass(frozen=True)
class ConsentGiven:
    """The customer accepted the privacy notice of this version through this channel."""

    notice_version: str
    channel: ConsentChannel


CONSENT_RECORDED = "PrivacyConsentRecorded"


@dataclass(frozen=True)
class BookAppointment:
    shop_id: str
    service_id: str
    barber_id: str | None  # None: any barber
    start: datetime
    customer: CustomerDetails
    notes: str = ""
    kind: str = "appointment"  # "walk_in" for staff-created bookings at the counter
    consent: ConsentGiven | None = None  # recorded with the booking, in its transaction


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    replayed: bool = False
    # What the answer shows, read in the booking's own transaction (no second read to render it).
    shop: Shop | None = None
    customer: Customer | None = None


class PrepaymentRequired(PolicyViolation):
    """The shop takes payment when booking: such bookings go through the checkout only."""


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidValue("start must include a UTC offset, e.g. 2026-03-02T10:00:00-03:00", field="start")
    return moment.astimezone(UTC)


def _customer(uow: UnitOfWork, ctx: Context, details: CustomerDetails) -> Customer:
    phone = normalise_phone(details.phone)
    existing = uow.customers.by_phone(phone)
    fresh = Customer.create(
        id=existing.id if existing else new_id(),
        tenant_id=ctx.tenant_id,
        name=details.name,
        phone=phone,
        email=details.email,
        dni=details.dni or (existing.dni if existing else None),
    )
    if existing is None:
        uow.customers.add(fresh)
        record(uow, ctx, action="CustomerCreated", entity_type="customer", entity_id=fresh.id, after=fresh)
    elif fresh != existing:
        uow.customers.update(fresh)
        record(
            uow,
            ctx,
            action="CustomerUpdated",
            entity_type="customer",
            entity_id=fresh.id,
            before=existing,
            after=fresh,
        )
    return fresh


def _record_consent(uow: UnitOfWork, ctx: Context, given: ConsentGiven, *, customer_id: str, booking_id: str) -> None:
    """The consent row, its audit entry and outbox event: ids, notice version, time and channel only."""
    consent = PrivacyConsent(
        id=new_id(),
        tenant_id=ctx.tenant_id,
        customer_id=customer_id,
        booking_id=booking_id,
        notice_version=given.notice_version,
        granted_at=ctx.now,
        channel=given.channel,
    )
    uow.consents.add(consent)
    record(uow, ctx, action=CONSENT_RECORDED, entity_type="customer", entity_id=customer_id, after=consent)


def _free_barbers_at(
    uow: UnitOfWork,
    ctx: Context,
    *,
    shop: Shop,
    service: Service,
    barbers: list[Barber],
    start: datetime,
    exclude_booking_id: str | None = None,
) -> list[str]:
    """Barbers for whom `start` is an offered slot, least loaded first.

    Staff may place a booking off the slot grid and inside the notice period (walk-ins),
    but never over another booking or outside working hours.
    """
    local_day = start.astimezone(shop.zone).date()
    policy = shop.policy
    if ctx.actor.kind is ActorKind.STAFF:
        policy = replace(policy, min_notice=timedelta(0), slot_step=timedelta(minutes=5))
    view = replace(shop, policy=policy)
    slots = slots_for(
        uow,
        shop=view,
        service=service,
        barbers=barbers,
        days=[local_day],
        now_utc=ctx.now,
        exclude_booking_id=exclude_booking_id,
    )
    free = {s.barber_id for s in slots if s.start == start}
    if not free:
        return []
    day_start, day_end = local_day_bounds(local_day, shop.zone)
    load = uow.bookings.count_by_barber(sorted(free), day_start, day_end)
    return sorted(free, key=lambda barber_id: (load.get(barber_id, 0), barber_id))


def _explain_unavailable(shop: Shop, start: datetime, now: datetime) -> SlotUnavailable:
    if start < now + shop.policy.min_notice:
        minutes = int(shop.policy.min_notice.total_seconds() // 60)
        return SlotUnavailable(f"bookings need at least {minutes} minutes' notice", field="start")
    if start > now + shop.policy.horizon:
        return SlotUnavailable(f"bookings open at most {shop.policy.horizon.days} days ahead", field="start")
    return SlotUnavailable("that time is no longer available; please pick another slot", field="start")


def book_appointment(
    uow: UnitOfWork,
    ctx: Context,
    cmd: BookAppointment,
    *,
    idempotency_key: str | None = None,
    request_fingerprint: str | None = None,
    prepayment: PrepaymentPolicy | None = None,
    refuse_prepaid: bool = False,
) -> BookingResult:
    """Book a slot. With `prepayment`, a shop that takes payment up front gets a PENDING_PAYMENT
    booking that holds its slot until paid (confirmed) or expired (cancelled); walk-ins never wait.
    With `refuse_prepaid` such a shop's appointments are refused instead (PrepaymentRequired):
    they must go through the checkout. The policy is asked inside this unit of work's
    transaction, so a policy that reads through the same unit of work adds no transaction."""
    start = _as_utc(cmd.start)
    if cmd.kind != "appointment" and ctx.actor.kind is not ActorKind.STAFF:
        raise PermissionDenied("only staff may create walk-in bookings", field="kind")
    with uow:
        hold = prepayment.hold_for(ctx.tenant_id, cmd.shop_id) if prepayment and cmd.kind == "appointment" else None
        if hold and refuse_prepaid:
            raise PrepaymentRequired("this shop takes payment when booking: book through the checkout", field="shop_id")
        if idempotency_key:
            previous = uow.idempotency.get(idempotency_key)
            if previous is not None:
                if previous.fingerprint != request_fingerprint:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was used with a different request", field="Idempotency-Key"
                    )
                earlier = uow.bookings.get(previous.booking_id)
                if earlier is None:  # pragma: no cover - bookings are never deleted
                    raise NotFound("booking not found")
                earlier_customer = uow.customers.get(earlier.customer_id) if earlier.customer_id else None
                return BookingResult(
                    earlier, replayed=True, shop=uow.shops.get(earlier.shop_id), customer=earlier_customer
                )
        shop, service = load_shop_service(uow, cmd.shop_id, cmd.service_id)
        barbers = bookable_barbers(uow, shop, cmd.barber_id)
        candidates = _free_barbers_at(uow, ctx, shop=shop, service=service, barbers=barbers, start=start)
        if not candidates:
            raise _explain_unavailable(shop, start, ctx.now)
        customer = _customer(uow, ctx, cmd.customer)
        status = BookingStatus.PENDING_PAYMENT if hold else BookingStatus.CONFIRMED
        booking: Booking | None = None
        for barber_id in candidates:
            attempt = Booking(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                shop_id=shop.id,
                barber_id=barber_id,
                service_id=service.id,
                customer_id=customer.id,
                start=start,
                end=start + service.duration,
                blocks_until=start + service.blocked_for,
                status=status,
                price=service.price,
                created_at=ctx.now,
                notes=cmd.notes.strip()[:500],
                kind=cmd.kind,
            )
            try:
                uow.bookings.add(attempt)  # the database has the last word on overlaps
            except SlotUnavailable:
                continue
            booking = attempt
            break
        if booking is None:
            raise _explain_unavailable(shop, start, ctx.now)
        action = "BookingAwaitingPayment" if hold else "BookingConfirmed"
        record(
            uow,
            ctx,
            action=action,
            entity_type="booking",
            entity_id=booking.id,
            after=booking,
            event=booking_event(action, booking, ctx.now),
        )
        if cmd.consent is not None:
            _record_consent(uow, ctx, cmd.consent, customer_id=customer.id, booking_id=booking.id)
        if idempotency_key:
            uow.idempotency.add(IdempotencyRecord(idempotency_key, request_fingerprint or "", booking.id, ctx.now))
        uow.commit()
        return BookingResult(booking, shop=shop, customer=customer)


def block_time(
    uow: UnitOfWork, ctx: Context, *, barber_id: str, start: datetime, end: datetime, note: str = ""
) -> Booking:
    """Staff take a barber out of the agenda (errand, training): a booking of kind "block"."""
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    if not start_utc < end_utc <= start_utc + timedelta(hours=24):
        raise InvalidValue("end must be after start, within 24 hours", field="end")
    if ctx.actor.kind is not ActorKind.STAFF:
        raise PermissionDenied("only staff may block time")
    with uow:
        barber = uow.barbers.get(barber_id)
        if barber is None:
            raise NotFound("barber not found", field="barber_id")
        block = Booking(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            shop_id=barber.shop_id,
            barber_id=barber.id,
            service_id=None,
            customer_id=None,
            start=start_utc,
            end=end_utc,
            blocks_until=end_utc,
            status=BookingStatus.CONFIRMED,
            price=Decimal("0.00"),
            created_at=ctx.now,
            notes=note.strip()[:500],
            kind="block",
        )
        ensure_staff_may_touch(block, ctx.actor)
        uow.bookings.add(block)
        record(uow, ctx, action="TimeBlocked", entity_type="booking", entity_id=block.id, after=block)
        uow.commit()
        return block


def _load(uow: UnitOfWork, booking_id: str) -> tuple[Booking, Shop]:
    booking = uow.bookings.get(booking_id)
    if booking is None:
        raise NotFound("booking not found", field="booking_id")
    shop = uow.shops.get(booking.shop_id)
    if shop is None:  # pragma: no cover - foreign key
        raise NotFound("shop not found")
    return booking, shop


def get_booking(uow: UnitOfWork, booking_id: str) -> Booking:
    with uow:
        booking, _ = _load(uow, booking_id)
        return booking


def cancel_booking(uow: UnitOfWork, ctx: Context, booking_id: str, reason: str = "") -> Booking:
    with uow:
        booking, shop = _load(uow, booking_id)
        cancelled = booking.cancel(ctx.actor, ctx.now, shop.policy)
        uow.bookings.update(cancelled)
        record(
            uow,
            ctx,
            action="BookingCancelled",
            entity_type="booking",
            entity_id=booking.id,
            before=booking,
            after=cancelled,
            event=booking_event("BookingCancelled", cancelled, ctx.now, reason=reason[:200]),
        )
        uow.commit()
        return cancelled


def reschedule_booking(
    uow: UnitOfWork, ctx: Context, booking_id: str, *, start: datetime, barber_id: str | None = None
) -> Booking:
    """Move a booking to another free slot (optionally another barber, or any with `"any"`)."""
    new_start = _as_utc(start)
    with uow:
        booking, shop = _load(uow, booking_id)
        if booking.kind == "block":
            raise PolicyViolation("blocks are removed by cancelling them", field="booking_id")
        service = uow.services.get(booking.service_id) if booking.service_id else None
        if service is None:
            raise NotFound("service not found", field="service_id")
        wanted = booking.barber_id if barber_id is None else (None if barber_id == "any" else barber_id)
        barbers = bookable_barbers(uow, shop, wanted)
        candidates = _free_barbers_at(
            uow,
            ctx,
            shop=shop,
            service=service,
            barbers=barbers,
            start=new_start,
            exclude_booking_id=booking.id,
        )
        if not candidates:
            raise _explain_unavailable(shop, new_start, ctx.now)
        moved: Booking | None = None
        for candidate in candidates:
            attempt = booking.reschedule(
                ctx.actor,
                ctx.now,
                shop.policy,
                start=new_start,
                duration=service.duration,
                buffer_after=service.buffer_after,
                barber_id=candidate,
            )
            try:
                uow.bookings.update(attempt)
            except SlotUnavailable:
                continue
            moved = attempt
            break
        if moved is None:
            raise _explain_unavailable(shop, new_start, ctx.now)
        record(
            uow,
            ctx,
            action="BookingRescheduled",
            entity_type="booking",
            entity_id=booking.id,
            before=booking,
            after=moved,
            event=booking_event("BookingRescheduled", moved, ctx.now, previous_start=booking.start.isoformat()),
        )
        uow.commit()
        return moved


def mark_completed(uow: UnitOfWork, ctx: Context, booking_id: str) -> Booking:
    with uow:
        booking, _ = _load(uow, booking_id)
        done = booking.mark_completed(ctx.actor, ctx.now)
        uow.bookings.update(done)
        record(
            uow,
            ctx,
            action="BookingCompleted",
            entity_type="booking",
            entity_id=booking.id,
            before=booking,
            after=done,
            event=booking_event("BookingCompleted", done, ctx.now),
        )
        uow.commit()
        return done


def mark_no_show(uow: UnitOfWork, ctx: Context, booking_id: str) -> Booking:
    with uow:
        booking, _ = _load(uow, booking_id)
        missed = booking.mark_no_show(ctx.actor, ctx.now)
        uow.bookings.update(missed)
        record(
            uow,
            ctx,
            action="BookingNoShow",
            entity_type="booking",
            entity_id=booking.id,
            before=booking,
            after=missed,
            event=booking_event("BookingNoShow", missed, ctx.now),
        )
        uow.commit()
        return missed


@dataclass(frozen=True)
class AgendaColumn:
    barber: Barber
    bookings: list[Booking]


def agenda(uow: UnitOfWork, ctx: Context, *, shop_id: str, day: date) -> list[AgendaColumn]:
    """The day of a shop, one column per barber (a barber sees only their own column)."""
    if ctx.actor.kind is not ActorKind.STAFF:
        raise PermissionDenied("only staff may see the agenda")
    with uow:
        shop = uow.shops.get(shop_id)
        if shop is None:
            raise NotFound("shop not found", field="shop_id")
        start, end = local_day_bounds(day, shop.zone)
        barbers = uow.barbers.list(shop.id)
        if ctx.actor.barber_id and ctx.actor.role is not None and ctx.actor.role.value == "barber":
            barbers = [b for b in barbers if b.id == ctx.actor.barber_id]
        bookings = uow.bookings.between(shop.id, start, end, limit=5000)
        return [AgendaColumn(barber, [b for b in bookings if b.barber_id == barber.id]) for barber in barbers]
