"""Rows to domain objects and back."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from barberpro.application.ports import ApiToken, StaffUser
from barberpro.domain.booking import Booking, BookingStatus, Review, Role
from barberpro.domain.customers import Customer
from barberpro.domain.schedules import DateException, ExceptionKind, LocalInterval, WorkingDay
from barberpro.domain.tenancy import Barber, BookingPolicy, Service, Shop


def intervals_to_json(intervals: tuple[LocalInterval, ...] | list[LocalInterval]) -> list[list[str]]:
    return [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in intervals]


def intervals_from_json(raw: list[list[str]]) -> tuple[LocalInterval, ...]:
    return tuple((time.fromisoformat(start), time.fromisoformat(end)) for start, end in raw)


def shop_row(shop: Shop) -> dict[str, Any]:
    return {
        "id": shop.id,
        "tenant_id": shop.tenant_id,
        "name": shop.name,
        "address": shop.address,
        "timezone": shop.timezone,
        "active": shop.active,
        "min_notice_s": int(shop.policy.min_notice.total_seconds()),
        "horizon_s": int(shop.policy.horizon.total_seconds()),
        "cutoff_s": int(shop.policy.customer_change_cutoff.total_seconds()),
        "slot_step_s": int(shop.policy.slot_step.total_seconds()),
    }


def shop_from(row: Any) -> Shop:
    return Shop(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        address=row.address,
        timezone=row.timezone,
        active=row.active,
        policy=BookingPolicy(
            min_notice=timedelta(seconds=row.min_notice_s),
            horizon=timedelta(seconds=row.horizon_s),
            customer_change_cutoff=timedelta(seconds=row.cutoff_s),
            slot_step=timedelta(seconds=row.slot_step_s),
        ),
    )


def barber_row(barber: Barber) -> dict[str, Any]:
    return {
        "id": barber.id,
        "tenant_id": barber.tenant_id,
        "shop_id": barber.shop_id,
        "name": barber.name,
        "bio": barber.bio,
        "active": barber.active,
    }


def barber_from(row: Any) -> Barber:
    return Barber(
        id=row.id, tenant_id=row.tenant_id, shop_id=row.shop_id, name=row.name, bio=row.bio, active=row.active
    )


def service_row(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "tenant_id": service.tenant_id,
        "shop_id": service.shop_id,
        "name": service.name,
        "description": service.description,
        "duration_s": int(service.duration.total_seconds()),
        "buffer_s": int(service.buffer_after.total_seconds()),
        "price": service.price,
        "active": service.active,
    }


def service_from(row: Any) -> Service:
    return Service(
        id=row.id,
        tenant_id=row.tenant_id,
        shop_id=row.shop_id,
        name=row.name,
        description=row.description,
        duration=timedelta(seconds=row.duration_s),
        buffer_after=timedelta(seconds=row.buffer_s),
        price=row.price,
        active=row.active,
    )


def working_day_from(row: Any) -> WorkingDay:
    return WorkingDay(
        weekday=row.weekday,
        intervals=intervals_from_json(row.intervals),
        breaks=intervals_from_json(row.breaks),
    )


def exception_row(exception: DateException) -> dict[str, Any]:
    return {
        "id": exception.id,
        "tenant_id": exception.tenant_id,
        "shop_id": exception.shop_id,
        "barber_id": exception.barber_id,
        "day": exception.day,
        "kind": exception.kind.value,
        "intervals": intervals_to_json(exception.intervals),
        "note": exception.note,
    }


def exception_from(row: Any) -> DateException:
    return DateException(
        id=row.id,
        tenant_id=row.tenant_id,
        shop_id=row.shop_id,
        barber_id=row.barber_id,
        day=row.day,
        kind=ExceptionKind(row.kind),
        intervals=intervals_from_json(row.intervals),
        note=row.note,
    )


def customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "tenant_id": customer.tenant_id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "dni": customer.dni,
    }


def customer_from(row: Any) -> Customer:
    return Customer(id=row.id, tenant_id=row.tenant_id, name=row.name, phone=row.phone, email=row.email, dni=row.dni)


def booking_row(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "tenant_id": booking.tenant_id,
        "shop_id": booking.shop_id,
        "barber_id": booking.barber_id,
        "service_id": booking.service_id,
        "customer_id": booking.customer_id,
        "starts_at": booking.start,
        "ends_at": booking.end,
        "blocks_until": booking.blocks_until,
        "status": booking.status.value,
        "kind": booking.kind,
        "price": booking.price,
        "notes": booking.notes,
        "created_at": booking.created_at,
        "version": booking.version,
    }


def booking_from(row: Any) -> Booking:
    return Booking(
        id=row.id,
        tenant_id=row.tenant_id,
        shop_id=row.shop_id,
        barber_id=row.barber_id,
        service_id=row.service_id,
        customer_id=row.customer_id,
        start=row.starts_at,
        end=row.ends_at,
        blocks_until=row.blocks_until,
        status=BookingStatus(row.status),
        kind=row.kind,
        price=row.price,
        notes=row.notes,
        created_at=row.created_at,
        version=row.version,
    )


def review_row(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "tenant_id": review.tenant_id,
        "shop_id": review.shop_id,
        "booking_id": review.booking_id,
        "barber_id": review.barber_id,
        "rating": review.rating,
        "text": review.text,
        "created_at": review.created_at,
    }


def review_from(row: Any) -> Review:
    return Review(
        id=row.id,
        tenant_id=row.tenant_id,
        shop_id=row.shop_id,
        booking_id=row.booking_id,
        barber_id=row.barber_id,
        rating=row.rating,
        text=row.text,
        created_at=row.created_at,
    )


def staff_row(user: StaffUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "tenant_id": user.tenant_id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "password_hash": user.password_hash,
        "barber_id": user.barber_id,
        "failed_logins": user.failed_logins,
        "locked_until": user.locked_until,
        "active": user.active,
    }


def staff_from(row: Any) -> StaffUser:
    return StaffUser(
        id=row.id,
        tenant_id=row.tenant_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        password_hash=row.password_hash,
        barber_id=row.barber_id,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        active=row.active,
    )


def token_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "tenant_id": token.tenant_id,
        "user_id": token.user_id,
        "name": token.name,
        "token_hash": token.token_hash,
        "kind": token.kind,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "csrf_hash": token.csrf_hash,
    }


def token_from(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        name=row.name,
        token_hash=row.token_hash,
        kind=row.kind,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        csrf_hash=row.csrf_hash,
    )
