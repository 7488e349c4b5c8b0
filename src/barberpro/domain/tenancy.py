"""Tenants (brands), their shops, barbers and services."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from barberpro.domain.errors import InvalidValue
from barberpro.domain.money import CURRENCY, ars

DEFAULT_ZONE = "America/Argentina/Buenos_Aires"
DEFAULT_LOCALE = "es-AR"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

DEFAULT_THEME: dict[str, str] = {
    "primary": "#1f3a5f",
    "accent": "#c8553d",
    "background": "#ffffff",
    "text": "#1b1b1b",
    "logo_url": "",
}


@lru_cache(maxsize=128)
def zone_named(name: str) -> ZoneInfo:
    """ZoneInfo objects are cached by the stdlib too, but its key lookup is slower than this."""
    return ZoneInfo(name)


def validate_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidValue("slug must be 1-40 lowercase letters, digits or hyphens", field="slug")
    return slug


def validate_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue(f"unknown IANA time zone: {zone}", field="timezone") from exc
    return zone


def validate_theme(theme: dict[str, str]) -> dict[str, str]:
    merged = {**DEFAULT_THEME, **theme}
    for key in ("primary", "accent", "background", "text"):
        if not _COLOUR.match(merged[key]):
            raise InvalidValue(f"{key} must be a colour like #1a2b3c", field=f"theme.{key}")
    unknown = set(merged) - set(DEFAULT_THEME)
    if unknown:
        raise InvalidValue(f"unknown theme keys: {sorted(unknown)}", field="theme")
    return merged


def validate_name(name: str, field_name: str = "name", max_length: int = 120) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidValue("must not be empty", field=field_name)
    if len(cleaned) > max_length:
        raise InvalidValue(f"must be at most {max_length} characters", field=field_name)
    return cleaned


@dataclass(frozen=True)
class Tenant:
    id: str
    slug: str
    name: str
    domains: tuple[str, ...] = ()
    theme: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_THEME))
    locale: str = DEFAULT_LOCALE
    currency: str = CURRENCY


@dataclass(frozen=True)
class BookingPolicy:
    """Per-shop rules for when customers may book, cancel and reschedule."""

    min_notice: timedelta = timedelta(hours=1)
    horizon: timedelta = timedelta(days=60)
    customer_change_cutoff: timedelta = timedelta(hours=2)
    slot_step: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.min_notice < timedelta(0):
            raise InvalidValue("minimum notice cannot be negative", field="min_notice_minutes")
        if self.horizon <= self.min_notice:
            raise InvalidValue("horizon must be longer than the minimum notice", field="horizon_days")
        if self.customer_change_cutoff < timedelta(0):
            raise InvalidValue("cut-off cannot be negative", field="cancel_cutoff_minutes")
        if not timedelta(minutes=5) <= self.slot_step <= timedelta(hours=2):
            raise InvalidValue("slot step must be between 5 and 120 minutes", field="slot_step_minutes")


@dataclass(frozen=True)
class Shop:
    id: str
    tenant_id: str
    name: str
    address: str
    timezone: str = DEFAULT_ZONE
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    active: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.timezone)


@dataclass(frozen=True)
class Barber:
    id: str
    tenant_id: str
    shop_id: str
    name: str
    bio: str = ""
    active: bool = True


@dataclass(frozen=True)
class Service:
    id: str
    tenant_id: str
    shop_id: str
    name: str
    duration: timedelta
    price: Decimal
    buffer_after: timedelta = timedelta(0)
    description: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if not timedelta(minutes=5) <= self.duration <= timedelta(hours=8):
            raise InvalidValue("duration must be between 5 minutes and 8 hours", field="duration_minutes")
        if not timedelta(0) <= self.buffer_after <= timedelta(hours=2):
            raise InvalidValue("buffer must be between 0 and 120 minutes", field="buffer_after_minutes")
        object.__setattr__(self, "price", ars(self.price))

    @property
    def blocked_for(self) -> timedelta:
        """How long the barber is taken: the service plus its clean-up buffer."""
        return self.duration + self.buffer_after
