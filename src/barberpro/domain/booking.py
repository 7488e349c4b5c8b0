"""Bookings: the status life-cycle and who may change what, until when."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from barberpro.domain.errors import InvalidTransition, InvalidValue, PermissionDenied, PolicyViolation
from barberpro.domain.tenancy import BookingPolicy


class BookingStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.PENDING_PAYMENT: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
}

ACTIVE_STATUSES = frozenset({BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED})


class ActorKind(enum.StrEnum):
    CUSTOMER = "customer"  # holds the booking's manage token
    STAFF = "staff"
    SYSTEM = "system"


class Role(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    BARBER = "barber"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None  # staff user id, customer id, or the job's name
    role: Role | None = None
    barber_id: str | None = None  # the staff user's own barber profile, if any

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.id or '-'}"


SYSTEM = Actor(ActorKind.SYSTEM, "system")


@dataclass(frozen=True)
class Booking:
    id: str
    tenant_id: str
    shop_id: str
    barber_id: str
    service_id: str | None  # None for staff blocks
    customer_id: str | None  # None for staff blocks
    start: datetime  # aware, UTC
    end: datetime  # end of the service
    blocks_until: datetime  # end + buffer: the barber is busy until then
    status: BookingStatus
    price: Decimal
    created_at: datetime
    notes: str = ""
    kind: str = "appointment"  # or "walk_in", "block" (staff blocks time)
    version: int = 1

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidValue("times must be timezone-aware", field="start")
        if not self.start < self.end <= self.blocks_until:
            raise InvalidValue("start must be before end", field="start")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def _move(self, target: BookingStatus) -> Booking:
        if target not in _TRANSITIONS[self.status]:
            raise InvalidTransition(f"a {self.status.value} booking cannot become {target.value}")
        return replace(self, status=target, version=self.version + 1)

    def confirm(self) -> Booking:
        return self._move(BookingStatus.CONFIRMED)

    def cancel(self, actor: Actor, now: datetime, policy: BookingPolicy) -> Booking:
        ensure_may_change(self, actor, now, policy)
        return self._move(BookingStatus.CANCELLED)

    def reschedule(
        self,
        actor: Actor,
        now: datetime,
        policy: BookingPolicy,
        *,
        start: datetime,
        duration: timedelta,
        buffer_after: timedelta,
        barber_id: str,
    ) -> Booking:
        ensure_may_change(self, actor, now, policy)
        if not self.is_active:
            raise InvalidTransition(f"a {self.status.value} booking cannot be rescheduled")
        return replace(
            self,
            start=start,
            end=start + duration,
            blocks_until=start + duration + buffer_after,
            barber_id=barber_id,
            version=self.version + 1,
        )

    def mark_completed(self, actor: Actor, now: datetime) -> Booking:
        self._ensure_staff_after_start(actor, now)
        return self._move(BookingStatus.COMPLETED)

    def mark_no_show(self, actor: Actor, now: datetime) -> Booking:
        self._ensure_staff_after_start(actor, now)
        return self._move(BookingStatus.NO_SHOW)

    def _ensure_staff_after_start(self, actor: Actor, now: datetime) -> None:
        ensure_staff_may_touch(self, actor)
        if now < self.start:
            raise PolicyViolation("the appointment has not started yet", field="status")


def ensure_staff_may_touch(booking: Booking, actor: Actor) -> None:
    """Owners and managers handle any booking; a barber only their own."""
    if actor.kind is ActorKind.SYSTEM:
        return
    if actor.kind is not ActorKind.STAFF:
        raise PermissionDenied("only staff may do this")
    if actor.role is Role.BARBER and actor.barber_id != booking.barber_id:
        raise PermissionDenied("barbers may only change their own bookings")


def ensure_may_change(booking: Booking, actor: Actor, now: datetime, policy: BookingPolicy) -> None:
    """Customers may cancel or move until the shop's cut-off; staff until the start."""
    if not booking.is_active:
        raise InvalidTransition(f"a {booking.status.value} booking cannot be changed")
    if actor.kind is ActorKind.CUSTOMER:
        if now > booking.start - policy.customer_change_cutoff:
            hours = policy.customer_change_cutoff.total_seconds() / 3600
            raise PolicyViolation(
                f"changes are allowed until {hours:g} h before the appointment; please call the shop",
                field="start",
            )
        return
    ensure_staff_may_touch(booking, actor)
    if actor.kind is ActorKind.STAFF and now > booking.start and actor.role is Role.BARBER:
        raise PolicyViolation("the appointment has already started", field="start")


@dataclass(frozen=True)
class Review:
    id: str
    tenant_id: str
    shop_id: str
    booking_id: str
    barber_id: str
    rating: int
    text: str
    created_at: datetime

    @classmethod
    def for_booking(cls, *, id: str, booking: Booking, rating: int, text: str, now: datetime) -> Review:
        if booking.status is not BookingStatus.COMPLETED:
            raise PolicyViolation("only completed visits can be reviewed", field="booking_id")
        if not 1 <= rating <= 5:
            raise InvalidValue("rating must be from 1 to 5", field="rating")
        cleaned = text.strip()
        if len(cleaned) > 2000:
            raise InvalidValue("review text must be at most 2000 characters", field="text")
        return cls(
            id=id,
            tenant_id=booking.tenant_id,
            shop_id=booking.shop_id,
            booking_id=booking.id,
            barber_id=booking.barber_id,
            rating=rating,
            text=cleaned,
            created_at=now,
        )
