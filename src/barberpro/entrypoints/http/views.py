"""Domain objects to JSON-ready dicts (times in the shop's zone, money as strings)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.responses import Response

from barberpro.application.ports import ApiToken, StaffUser
from barberpro.domain.booking import Booking, Review
from barberpro.domain.customers import Customer
from barberpro.domain.money import CURRENCY, format_ars
from barberpro.domain.schedules import DateException, WorkingDay
from barberpro.domain.slots import Slot
from barberpro.domain.tenancy import Barber, Service, Shop, Tenant


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "domains": list(tenant.domains),
        "theme": tenant.theme,
        "locale": tenant.locale,
        "currency": tenant.currency,
    }


def shop_view(shop: Shop, reviews: tuple[int, float | None] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": shop.id,
        "name": shop.name,
        "address": shop.address,
        "timezone": shop.timezone,
        "active": shop.active,
        "policy": {
            "min_notice_minutes": int(shop.policy.min_notice.total_seconds() // 60),
            "horizon_days": shop.policy.horizon.days,
            "cancel_cutoff_minutes": int(shop.policy.customer_change_cutoff.total_seconds() // 60),
            "slot_step_minutes": int(shop.policy.slot_step.total_seconds() // 60),
        },
    }
    if reviews is not None:
        view["reviews"] = {"count": reviews[0], "average": reviews[1]}
    return view


def service_view(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "shop_id": service.shop_id,
        "name": service.name,
        "description": service.description,
        "duration_minutes": int(service.duration.total_seconds() // 60),
        "buffer_after_minutes": int(service.buffer_after.total_seconds() // 60),
        "price": str(service.price),
        "price_display": format_ars(service.price),
        "currency": CURRENCY,
        "active": service.active,
    }


def barber_view(barber: Barber) -> dict[str, Any]:
    return {
        "id": barber.id,
        "shop_id": barber.shop_id,
        "name": barber.name,
        "bio": barber.bio,
        "active": barber.active,
    }


def slot_view(slot: Slot) -> dict[str, Any]:
    return {"start": slot.start.isoformat(), "end": slot.end.isoformat(), "barber_id": slot.barber_id}


def customer_view(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "dni": customer.dni,
    }


def booking_view(
    booking: Booking,
    zone: ZoneInfo,
    *,
    manage_token: str | None = None,
    manage_url: str | None = None,
    customer: Customer | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": booking.id,
        "shop_id": booking.shop_id,
        "barber_id": booking.barber_id,
        "service_id": booking.service_id,
        "status": booking.status.value,
        "kind": booking.kind,
        "start": booking.start.astimezone(zone).isoformat(),
        "end": booking.end.astimezone(zone).isoformat(),
        "price": str(booking.price),
        "currency": CURRENCY,
        "notes": booking.notes,
        "created_at": booking.created_at.isoformat(),
        "version": booking.version,
    }
    if manage_token is not None:
        view["manage_token"] = manage_token
    if manage_url is not None:
        view["manage_url"] = manage_url
    if customer is not None:
        view["customer"] = customer_view(customer)
    return view


def review_view(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "booking_id": review.booking_id,
        "barber_id": review.barber_id,
        "rating": review.rating,
        "text": review.text,
        "created_at": review.created_at.isoformat(),
    }


def interval_view(interval: tuple[Any, Any]) -> dict[str, str]:
    return {"start": interval[0].strftime("%H:%M"), "end": interval[1].strftime("%H:%M")}


def working_day_view(day: WorkingDay) -> dict[str, Any]:
    return {
        "weekday": day.weekday,
        "intervals": [interval_view(i) for i in day.intervals],
        "breaks": [interval_view(i) for i in day.breaks],
    }


def exception_view(exception: DateException) -> dict[str, Any]:
    return {
        "id": exception.id,
        "shop_id": exception.shop_id,
        "barber_id": exception.barber_id,
        "day": exception.day.isoformat(),
        "kind": exception.kind.value,
        "intervals": [interval_view(i) for i in exception.intervals],
        "note": exception.note,
    }


def staff_view(user: StaffUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "barber_id": user.barber_id,
        "active": user.active,
    }


def token_view(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "kind": token.kind,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }
