"""Request and response bodies of the JSON API (validated at the edge)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from barberpro.domain.booking import Role
from barberpro.domain.schedules import ExceptionKind


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-03-02T10:00:00-03:00")
    if not 2000 <= value.year <= 2199:
        raise ValueError("must be between the years 2000 and 2199")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=6, max_length=30, examples=["+54 9 11 2345-6789"])
    email: str = Field(min_length=3, max_length=254)
    dni: str | None = Field(default=None, max_length=12)


class BookingIn(Strict):
    shop_id: str = Field(max_length=36)
    service_id: str = Field(max_length=36)
    barber_id: str | None = Field(default=None, max_length=36, description="null: any barber")
    start: AwareDatetime
    customer: CustomerIn
    notes: str = Field(default="", max_length=500)
    privacy_notice_accepted: StrictBool = Field(
        default=False,
        description="true: the customer accepted the shop's privacy notice (Ley 25.326); the consent is "
        "recorded with the booking (channel api, the current notice version). JSON true/false only.",
    )


class WalkInIn(BookingIn):
    kind: Literal["appointment", "walk_in"] = "walk_in"


class RescheduleIn(Strict):
    start: AwareDatetime
    barber_id: str | None = Field(default=None, max_length=36, description='another barber, or "any"')


class CancelIn(Strict):
    reason: str = Field(default="", max_length=200)


class BlockIn(Strict):
    barber_id: str = Field(max_length=36)
    start: AwareDatetime
    end: AwareDatetime
    note: str = Field(default="", max_length=500)


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=2000)


class ShopIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    address: str = Field(min_length=1, max_length=300)
    timezone: str = Field(default="America/Argentina/Buenos_Aires", max_length=64)
    min_notice_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 14)
    horizon_days: int | None = Field(default=None, ge=1, le=366)
    cancel_cutoff_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 14)
    slot_step_minutes: int | None = Field(default=None, ge=5, le=120)


class ShopPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    timezone: str | None = Field(default=None, max_length=64)
    active: bool | None = None
    min_notice_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 14)
    horizon_days: int | None = Field(default=None, ge=1, le=366)
    cancel_cutoff_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 14)
    slot_step_minutes: int | None = Field(default=None, ge=5, le=120)


class BarberIn(Strict):
    shop_id: str = Field(max_length=36)
    name: str = Field(min_length=1, max_length=120)
    bio: str = Field(default="", max_length=1000)


class BarberPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    bio: str | None = Field(default=None, max_length=1000)
    active: bool | None = None


class ServiceIn(Strict):
    shop_id: str = Field(max_length=36)
    name: str = Field(min_length=1, max_length=120)
    duration_minutes: int = Field(ge=5, le=480)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2, description='ARS, as a string: "12345.50"')
    buffer_after_minutes: int = Field(default=0, ge=0, le=120)
    description: str = Field(default="", max_length=1000)


class ServicePatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    duration_minutes: int | None = Field(default=None, ge=5, le=480)
    price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    buffer_after_minutes: int | None = Field(default=None, ge=0, le=120)
    description: str | None = Field(default=None, max_length=1000)
    active: bool | None = None


class IntervalIn(Strict):
    start: time
    end: time


class WorkingDayIn(Strict):
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    intervals: list[IntervalIn] = Field(min_length=1, max_length=6)
    breaks: list[IntervalIn] = Field(default_factory=list, max_length=6)


class WeekIn(Strict):
    days: list[WorkingDayIn] = Field(max_length=7)


class ExceptionIn(Strict):
    shop_id: str = Field(max_length=36)
    day: date
    kind: ExceptionKind
    barber_id: str | None = Field(default=None, max_length=36)
    intervals: list[IntervalIn] = Field(default_factory=list, max_length=6)
    note: str = Field(default="", max_length=300)


class BrandingPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    theme: dict[str, str] | None = None


class LoginIn(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = Field(default="", max_length=100)


class StaffUserIn(Strict):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=10, max_length=1024)
    role: Role
    barber_id: str | None = Field(default=None, max_length=36)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()
