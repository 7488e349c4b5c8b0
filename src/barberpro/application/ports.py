"""Ports: what the application needs from the outside world, as protocols.

Each has a real adapter (adapters/), and tests use the same real adapters on SQLite or
small fakes where a real one needs a network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from barberpro.domain.booking import Booking, Review, Role
from barberpro.domain.consent import PrivacyConsent
from barberpro.domain.customers import Customer
from barberpro.domain.events import DomainEvent
from barberpro.domain.schedules import DateException, WorkingDay
from barberpro.domain.slots import BusyInterval
from barberpro.domain.tenancy import Barber, Service, Shop, Tenant

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class EventPublisher(Protocol):
    def publish(self, event: DomainEvent) -> None: ...


@dataclass(frozen=True)
class StaffUser:
    id: str
    tenant_id: str
    email: str
    name: str
    role: Role
    password_hash: str
    barber_id: str | None = None
    failed_logins: int = 0
    locked_until: datetime | None = None
    active: bool = True


@dataclass(frozen=True)
class ApiToken:
    id: str
    tenant_id: str
    user_id: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    kind: str = "api"  # "api" (bearer) or "session" (web cookie)
    expires_at: datetime | None = None
    csrf_hash: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: str
    tenant_id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    booking_id: str
    created_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class TenantRepository(Protocol):
    """The current tenant's own record (branding, domains)."""

    def get(self) -> Tenant: ...

    def add(self, tenant: Tenant, created_at: datetime) -> None:
        """Provisioning: creates the tenant the unit of work is scoped to."""

    def update(self, tenant: Tenant) -> None: ...


class ShopRepository(Protocol):
    def list(self) -> list[Shop]: ...

    def get(self, shop_id: str) -> Shop | None: ...

    def add(self, shop: Shop) -> None: ...

    def update(self, shop: Shop) -> None: ...


class BarberRepository(Protocol):
    def list(self, shop_id: str | None = None) -> list[Barber]: ...

    def get(self, barber_id: str) -> Barber | None: ...

    def add(self, barber: Barber) -> None: ...

    def update(self, barber: Barber) -> None: ...


class ServiceRepository(Protocol):
    def list(self, shop_id: str | None = None) -> list[Service]: ...

    def get(self, service_id: str) -> Service | None: ...

    def add(self, service: Service) -> None: ...

    def update(self, service: Service) -> None: ...


class ScheduleRepository(Protocol):
    def weeks(self, barber_ids: Sequence[str]) -> dict[str, tuple[WorkingDay, ...]]: ...

    def replace_week(self, barber_id: str, days: Sequence[WorkingDay]) -> None: ...

    def exceptions(self, shop_id: str, first: date, last: date) -> list[DateException]: ...

    def get_exception(self, exception_id: str) -> DateException | None: ...

    def add_exception(self, exception: DateException) -> None: ...

    def delete_exception(self, exception_id: str) -> None: ...


class BookingRepository(Protocol):
    def get(self, booking_id: str) -> Booking | None: ...

    def add(self, booking: Booking) -> None:
        """Insert; raises SlotUnavailable if the barber is already taken (the database's word)."""

    def update(self, booking: Booking) -> None:
        """Write a changed booking (optimistic on `version`); SlotUnavailable on overlap."""

    def busy(
        self, barber_ids: Sequence[str], start: datetime, end: datetime, exclude_id: str | None = None
    ) -> list[BusyInterval]: ...

    def count_by_barber(self, barber_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, int]: ...

    def between(
        self,
        shop_id: str,
        start: datetime,
        end: datetime,
        *,
        barber_id: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[Booking]: ...

    def of_customer(self, customer_id: str) -> list[Booking]:
        """Every booking of one customer in this tenant (any status), oldest start first."""


class CustomerRepository(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def by_phone(self, phone: str) -> Customer | None: ...

    def add(self, customer: Customer) -> None: ...

    def update(self, customer: Customer) -> None: ...


class ConsentRepository(Protocol):
    def add(self, consent: PrivacyConsent) -> None: ...

    def of_customer(self, customer_id: str) -> list[PrivacyConsent]:
        """Every consent of one customer in this tenant, oldest first (one query)."""


class ReviewRepository(Protocol):
    def add(self, review: Review) -> None:
        """Insert; raises PolicyViolation if the booking already has a review."""

    def by_booking(self, booking_id: str) -> Review | None: ...

    def by_bookings(self, booking_ids: Iterable[str]) -> dict[str, Review]:
        """by_booking for many bookings at once, keyed by booking id; those without a review are absent."""

    def list(self, shop_id: str, *, after: tuple[datetime, str] | None = None, limit: int = 20) -> list[Review]: ...

    def summary(self, shop_id: str) -> tuple[int, float | None]: ...


class StaffRepository(Protocol):
    def get(self, user_id: str) -> StaffUser | None: ...

    def by_email(self, email: str) -> StaffUser | None: ...

    def list(self) -> list[StaffUser]: ...

    def add(self, user: StaffUser) -> None: ...

    def update(self, user: StaffUser) -> None: ...


class TokenRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...

    def get(self, token_id: str) -> ApiToken | None: ...

    def unrevoked_for_user(self, user_id: str) -> list[ApiToken]: ...

    def update(self, token: ApiToken) -> None: ...


class IdempotencyRepository(Protocol):
    def get(self, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None: ...


class AuditLog(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def list(
        self,
        *,
        entity_id: str | None = None,
        action: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[AuditEntry]: ...

    def first_per_entity(self, entity_ids: Iterable[str], action: str) -> dict[str, AuditEntry]:
        """The oldest `action` entry of each entity (what `list(entity_id=..., action=..., limit=1)`
        returns), keyed by entity id; entities without one are absent."""


class Outbox(Protocol):
    def add(self, event: DomainEvent) -> None: ...


class UnitOfWork(Protocol):
    """One transaction, scoped to one tenant. `with uow:` begins; leaving without commit rolls back."""

    tenant_id: str
    tenant: TenantRepository
    shops: ShopRepository
    barbers: BarberRepository
    services: ServiceRepository
    schedules: ScheduleRepository
    bookings: BookingRepository
    customers: CustomerRepository
    consents: ConsentRepository
    reviews: ReviewRepository
    staff: StaffRepository
    tokens: TokenRepository
    idempotency: IdempotencyRepository
    audit: AuditLog
    outbox: Outbox

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def lock(self, scope: str, key: str) -> None:
        """Hold this tenant's lock on (scope, key) until the transaction ends (write units only).

        Take it before reading what a decision depends on: another transaction taking the same
        lock waits until this one has committed or rolled back, then reads what this one wrote.
        """


class UnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: str, *, write: bool = True) -> UnitOfWork: ...


class PlatformDirectory(Protocol):
    """The explicit, unscoped path, used before a tenant is known (resolution, token look-up)."""

    def tenant(self, tenant_id: str) -> Tenant | None: ...

    def tenant_by_slug(self, slug: str) -> Tenant | None: ...

    def tenant_by_domain(self, domain: str) -> Tenant | None: ...

    def token_by_hash(self, token_hash: str) -> ApiToken | None: ...

    def list_tenants(self) -> list[Tenant]: ...
