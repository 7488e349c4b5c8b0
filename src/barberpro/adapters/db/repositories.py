"""Tenant-scoped repositories: each is built with a tenant id and has no unscoped query."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError, OperationalError

from barberpro.adapters.db import mapping as m
from barberpro.adapters.db import tables as t
from barberpro.application.ports import ApiToken, AuditEntry, IdempotencyRecord, StaffUser
from barberpro.domain.booking import Booking, BookingStatus, Review
from barberpro.domain.customers import Customer
from barberpro.domain.errors import ConcurrentRequest, NotFound, PolicyViolation, SlotUnavailable
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id
from barberpro.domain.schedules import DateException, WorkingDay
from barberpro.domain.slots import BusyInterval
from barberpro.domain.tenancy import Barber, Service, Shop, Tenant, validate_theme


def _by_id(table: Any) -> Any:
    return select(table).where(table.c.tenant_id == bindparam("t"), table.c.id == bindparam("i"))


# Hot statements are built once: constructing a Select and its cache key on every call costs
# about four times what executing it costs on SQLite (benchmarks/availability_compute.py).
_GET_SHOP = _by_id(t.shops)
_GET_BARBER = _by_id(t.barbers)
_GET_SERVICE = _by_id(t.services)
_GET_BOOKING = _by_id(t.bookings)
_GET_CUSTOMER = _by_id(t.customers)
_INSERT = {table.name: insert(table) for table in t.metadata.sorted_tables}
_WEEKS = select(t.working_hours).where(
    t.working_hours.c.tenant_id == bindparam("t"), t.working_hours.c.barber_id.in_(bindparam("ids", expanding=True))
)
_EXCEPTIONS = (
    select(t.date_exceptions)
    .where(
        t.date_exceptions.c.tenant_id == bindparam("t"),
        t.date_exceptions.c.shop_id == bindparam("shop"),
        t.date_exceptions.c.day >= bindparam("first"),
        t.date_exceptions.c.day <= bindparam("last"),
    )
    .order_by(t.date_exceptions.c.day)
)
_CUSTOMER_BY_PHONE = select(t.customers).where(
    t.customers.c.tenant_id == bindparam("t"), t.customers.c.phone == bindparam("phone")
)
_IDEMPOTENCY = select(t.idempotency_keys).where(
    t.idempotency_keys.c.tenant_id == bindparam("t"), t.idempotency_keys.c.key == bindparam("key")
)


# Ids per `IN (...)`: SQLite builds before 3.32 allow 999 bound parameters per statement.
ID_CHUNK = 500


def id_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Distinct ids in batches small enough for one `IN (...)` on every supported database."""
    distinct = list(dict.fromkeys(ids))
    for start in range(0, len(distinct), ID_CHUNK):
        yield distinct[start : start + ID_CHUNK]


class _Scoped:
    def __init__(self, connection: Connection, tenant_id: str) -> None:
        self._c = connection
        self._tenant = tenant_id


def fetch_tenant(connection: Connection, condition: Any) -> Tenant | None:
    """One tenant with its domains, by any condition on the tenants table."""
    row = connection.execute(select(t.tenants).where(condition)).one_or_none()
    if row is None:
        return None
    domains = connection.execute(
        select(t.tenant_domains.c.domain).where(t.tenant_domains.c.tenant_id == row.id)
    ).scalars()
    return Tenant(
        id=row.id,
        slug=row.slug,
        name=row.name,
        domains=tuple(sorted(domains)),
        theme=validate_theme(row.theme),
        locale=row.locale,
        currency=row.currency,
    )


class SqlTenantRepository(_Scoped):
    def get(self) -> Tenant:
        tenant = fetch_tenant(self._c, t.tenants.c.id == self._tenant)
        if tenant is None:
            raise NotFound("tenant not found")
        return tenant

    def add(self, tenant: Tenant, created_at: datetime) -> None:
        """Provisioning: only for the tenant this unit of work is scoped to."""
        if tenant.id != self._tenant:
            raise PermissionError("a unit of work creates only its own tenant")
        self._c.execute(
            insert(t.tenants).values(
                id=tenant.id,
                slug=tenant.slug,
                name=tenant.name,
                theme=tenant.theme,
                locale=tenant.locale,
                currency=tenant.currency,
                created_at=created_at,
            )
        )
        self._set_domains(tenant.domains)

    def update(self, tenant: Tenant) -> None:
        self._c.execute(
            update(t.tenants)
            .where(t.tenants.c.id == self._tenant)
            .values(name=tenant.name, theme=tenant.theme, locale=tenant.locale)
        )
        self._c.execute(delete(t.tenant_domains).where(t.tenant_domains.c.tenant_id == self._tenant))
        self._set_domains(tenant.domains)

    def _set_domains(self, domains: Sequence[str]) -> None:
        if domains:
            self._c.execute(
                insert(t.tenant_domains), [{"domain": d.lower(), "tenant_id": self._tenant} for d in domains]
            )


class SqlShopRepository(_Scoped):
    def list(self) -> list[Shop]:
        rows = self._c.execute(select(t.shops).where(t.shops.c.tenant_id == self._tenant).order_by(t.shops.c.name))
        return [m.shop_from(r) for r in rows]

    def get(self, shop_id: str) -> Shop | None:
        row = self._c.execute(_GET_SHOP, {"t": self._tenant, "i": shop_id}).one_or_none()
        return m.shop_from(row) if row else None

    def add(self, shop: Shop) -> None:
        self._c.execute(insert(t.shops).values(m.shop_row(shop) | {"tenant_id": self._tenant}))

    def update(self, shop: Shop) -> None:
        self._c.execute(
            update(t.shops)
            .where(t.shops.c.tenant_id == self._tenant, t.shops.c.id == shop.id)
            .values(m.shop_row(shop) | {"tenant_id": self._tenant})
        )


class SqlBarberRepository(_Scoped):
    def list(self, shop_id: str | None = None) -> list[Barber]:
        query = select(t.barbers).where(t.barbers.c.tenant_id == self._tenant)
        if shop_id is not None:
            query = query.where(t.barbers.c.shop_id == shop_id)
        return [m.barber_from(r) for r in self._c.execute(query.order_by(t.barbers.c.name, t.barbers.c.id))]

    def get(self, barber_id: str) -> Barber | None:
        row = self._c.execute(_GET_BARBER, {"t": self._tenant, "i": barber_id}).one_or_none()
        return m.barber_from(row) if row else None

    def add(self, barber: Barber) -> None:
        self._c.execute(insert(t.barbers).values(m.barber_row(barber) | {"tenant_id": self._tenant}))

    def update(self, barber: Barber) -> None:
        self._c.execute(
            update(t.barbers)
            .where(t.barbers.c.tenant_id == self._tenant, t.barbers.c.id == barber.id)
            .values(m.barber_row(barber) | {"tenant_id": self._tenant})
        )


class SqlServiceRepository(_Scoped):
    def list(self, shop_id: str | None = None) -> list[Service]:
        query = select(t.services).where(t.services.c.tenant_id == self._tenant)
        if shop_id is not None:
            query = query.where(t.services.c.shop_id == shop_id)
        return [m.service_from(r) for r in self._c.execute(query.order_by(t.services.c.name, t.services.c.id))]

    def get(self, service_id: str) -> Service | None:
        row = self._c.execute(_GET_SERVICE, {"t": self._tenant, "i": service_id}).one_or_none()
        return m.service_from(row) if row else None

    def add(self, service: Service) -> None:
        self._c.execute(insert(t.services).values(m.service_row(service) | {"tenant_id": self._tenant}))

    def update(self, service: Service) -> None:
        self._c.execute(
            update(t.services)
            .where(t.services.c.tenant_id == self._tenant, t.services.c.id == service.id)
            .values(m.service_row(service) | {"tenant_id": self._tenant})
        )


class SqlScheduleRepository(_Scoped):
    def weeks(self, barber_ids: Sequence[str]) -> dict[str, tuple[WorkingDay, ...]]:
        result: dict[str, list[WorkingDay]] = {b: [] for b in barber_ids}
        rows = self._c.execute(_WEEKS, {"t": self._tenant, "ids": list(barber_ids)})
        for row in rows:
            result[row.barber_id].append(m.working_day_from(row))
        return {b: tuple(sorted(days, key=lambda d: d.weekday)) for b, days in result.items()}

    def replace_week(self, barber_id: str, days: Sequence[WorkingDay]) -> None:
        self._c.execute(
            delete(t.working_hours).where(
                t.working_hours.c.tenant_id == self._tenant, t.working_hours.c.barber_id == barber_id
            )
        )
        if days:
            self._c.execute(
                insert(t.working_hours),
                [
                    {
                        "id": new_id(),
                        "tenant_id": self._tenant,
                        "barber_id": barber_id,
                        "weekday": d.weekday,
                        "intervals": m.intervals_to_json(d.intervals),
                        "breaks": m.intervals_to_json(d.breaks),
                    }
                    for d in days
                ],
            )

    def exceptions(self, shop_id: str, first: date, last: date) -> list[DateException]:
        rows = self._c.execute(_EXCEPTIONS, {"t": self._tenant, "shop": shop_id, "first": first, "last": last})
        return [m.exception_from(r) for r in rows]

    def get_exception(self, exception_id: str) -> DateException | None:
        row = self._c.execute(
            select(t.date_exceptions).where(
                t.date_exceptions.c.tenant_id == self._tenant, t.date_exceptions.c.id == exception_id
            )
        ).one_or_none()
        return m.exception_from(row) if row else None

    def add_exception(self, exception: DateException) -> None:
        self._c.execute(insert(t.date_exceptions).values(m.exception_row(exception) | {"tenant_id": self._tenant}))

    def delete_exception(self, exception_id: str) -> None:
        self._c.execute(
            delete(t.date_exceptions).where(
                t.date_exceptions.c.tenant_id == self._tenant, t.date_exceptions.c.id == exception_id
            )
        )


_B = t.bookings.c
_HOLDS_TIME = _B.status != BookingStatus.CANCELLED.value


# No booking or block lasts longer than this (services ≤ 8 h + 2 h buffer, blocks ≤ 24 h), so an
# overlap search can bound `starts_at` from below and range-scan the (barber_id, starts_at) index
# instead of a barber's whole history.
LONGEST_BOOKING = timedelta(hours=24)

_OVERLAP = (
    select(_B.id)
    .where(
        _B.tenant_id == bindparam("t"),
        _B.barber_id == bindparam("barber"),
        _HOLDS_TIME,
        _B.starts_at > bindparam("floor"),
        _B.starts_at < bindparam("until"),
        _B.blocks_until > bindparam("start"),
        _B.id != bindparam("self_id"),
    )
    .limit(1)
)
_BUSY_WHERE = (
    _B.tenant_id == bindparam("t"),
    _B.barber_id.in_(bindparam("ids", expanding=True)),
    _HOLDS_TIME,
    _B.starts_at > bindparam("floor"),
    _B.starts_at < bindparam("end"),
    _B.blocks_until > bindparam("start"),
)
_BUSY = select(_B.barber_id, _B.starts_at, _B.blocks_until).where(*_BUSY_WHERE)
_BUSY_EXCLUDING = _BUSY.where(_B.id != bindparam("exclude"))
_COUNT_BY_BARBER = (
    select(_B.barber_id, func.count())
    .where(
        _B.tenant_id == bindparam("t"),
        _B.barber_id.in_(bindparam("ids", expanding=True)),
        _HOLDS_TIME,
        _B.kind != "block",
        _B.starts_at >= bindparam("start"),
        _B.starts_at < bindparam("end"),
    )
    .group_by(_B.barber_id)
)


def _is_exclusion_violation(error: IntegrityError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "23P01"


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "40P01"


class SqlBookingRepository(_Scoped):
    def get(self, booking_id: str) -> Booking | None:
        row = self._c.execute(_GET_BOOKING, {"t": self._tenant, "i": booking_id}).one_or_none()
        return m.booking_from(row) if row else None

    def _overlaps(self, booking: Booking) -> bool:
        parameters = {
            "t": self._tenant,
            "barber": booking.barber_id,
            "until": booking.blocks_until,
            "start": booking.start,
            "floor": booking.start - LONGEST_BOOKING,
            "self_id": booking.id,
        }
        return self._c.execute(_OVERLAP, parameters).first() is not None

    def _guarded(self, statement: Any, booking: Booking, parameters: dict[str, Any] | None = None) -> Any:
        if booking.status is not BookingStatus.CANCELLED and self._overlaps(booking):
            raise SlotUnavailable("that time is no longer available", field="start")
        try:
            with self._c.begin_nested():
                return self._c.execute(statement, parameters)
        except IntegrityError as error:
            if _is_exclusion_violation(error):
                raise SlotUnavailable("that time is no longer available", field="start") from error
            raise
        except OperationalError as error:
            # Transactions writing overlapping bookings at once each wait on the other's
            # uncommitted row in the exclusion check; PostgreSQL breaks the cycle by failing
            # one. Rolled back to the savepoint, that one has lost the slot (the other's row
            # stands), and the rest of its transaction is intact.
            if _is_deadlock(error):
                raise SlotUnavailable("that time is no longer available", field="start") from error
            raise

    def add(self, booking: Booking) -> None:
        self._guarded(_INSERT["bookings"], booking, m.booking_row(booking) | {"tenant_id": self._tenant})

    def update(self, booking: Booking) -> None:
        result = self._guarded(
            update(t.bookings)
            .where(_B.tenant_id == self._tenant, _B.id == booking.id, _B.version == booking.version - 1)
            .values(m.booking_row(booking) | {"tenant_id": self._tenant}),
            booking,
        )
        if result.rowcount != 1:
            raise SlotUnavailable("the booking changed meanwhile; reload and try again", field="booking_id")

    def busy(
        self, barber_ids: Sequence[str], start: datetime, end: datetime, exclude_id: str | None = None
    ) -> list[BusyInterval]:
        parameters: dict[str, Any] = {
            "t": self._tenant,
            "ids": list(barber_ids),
            "start": start,
            "end": end,
            "floor": start - LONGEST_BOOKING,
        }
        if exclude_id is not None:
            parameters["exclude"] = exclude_id
        rows = self._c.execute(_BUSY if exclude_id is None else _BUSY_EXCLUDING, parameters)
        return [BusyInterval(r.barber_id, r.starts_at, r.blocks_until) for r in rows]

    def count_by_barber(self, barber_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
        rows = self._c.execute(
            _COUNT_BY_BARBER, {"t": self._tenant, "ids": list(barber_ids), "start": start, "end": end}
        )
        return {barber_id: count for barber_id, count in rows}

    def between(
        self,
        shop_id: str,
        start: datetime,
        end: datetime,
        *,
        barber_id: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[Booking]:
        query = select(t.bookings).where(
            _B.tenant_id == self._tenant, _B.shop_id == shop_id, _B.starts_at >= start, _B.starts_at < end
        )
        if barber_id is not None:
            query = query.where(_B.barber_id == barber_id)
        if after is not None:
            query = query.where(tuple_(_B.starts_at, _B.id) > tuple_(after[0], after[1]))
        rows = self._c.execute(query.order_by(_B.starts_at, _B.id).limit(limit))
        return [m.booking_from(r) for r in rows]

    def of_customer(self, customer_id: str) -> list[Booking]:
        # ix_bookings_tenant_customer (migration 0005) serves this: a customer has few bookings.
        query = select(t.bookings).where(_B.tenant_id == self._tenant, _B.customer_id == customer_id)
        return [m.booking_from(r) for r in self._c.execute(query.order_by(_B.starts_at, _B.id))]


class SqlCustomerRepository(_Scoped):
    def get(self, customer_id: str) -> Customer | None:
        row = self._c.execute(_GET_CUSTOMER, {"t": self._tenant, "i": customer_id}).one_or_none()
        return m.customer_from(row) if row else None

    def by_phone(self, phone: str) -> Customer | None:
        row = self._c.execute(_CUSTOMER_BY_PHONE, {"t": self._tenant, "phone": phone}).one_or_none()
        return m.customer_from(row) if row else None

    def add(self, customer: Customer) -> None:
        self._c.execute(_INSERT["customers"], m.customer_row(customer) | {"tenant_id": self._tenant})

    def update(self, customer: Customer) -> None:
        self._c.execute(
            update(t.customers)
            .where(t.customers.c.tenant_id == self._tenant, t.customers.c.id == customer.id)
            .values(m.customer_row(customer) | {"tenant_id": self._tenant})
        )


_R = t.reviews.c


class SqlReviewRepository(_Scoped):
    def add(self, review: Review) -> None:
        try:
            with self._c.begin_nested():
                self._c.execute(insert(t.reviews).values(m.review_row(review) | {"tenant_id": self._tenant}))
        except IntegrityError as error:
            raise PolicyViolation("this visit already has a review", field="booking_id") from error

    def by_booking(self, booking_id: str) -> Review | None:
        row = self._c.execute(
            select(t.reviews).where(_R.tenant_id == self._tenant, _R.booking_id == booking_id)
        ).one_or_none()
        return m.review_from(row) if row else None

    def by_bookings(self, booking_ids: Iterable[str]) -> dict[str, Review]:
        found: dict[str, Review] = {}
        for chunk in id_chunks(booking_ids):
            rows = self._c.execute(select(t.reviews).where(_R.tenant_id == self._tenant, _R.booking_id.in_(chunk)))
            found.update((row.booking_id, m.review_from(row)) for row in rows)
        return found

    def list(self, shop_id: str, *, after: tuple[datetime, str] | None = None, limit: int = 20) -> list[Review]:
        query = select(t.reviews).where(_R.tenant_id == self._tenant, _R.shop_id == shop_id)
        if after is not None:
            query = query.where(tuple_(_R.created_at, _R.id) < tuple_(after[0], after[1]))
        rows = self._c.execute(query.order_by(_R.created_at.desc(), _R.id.desc()).limit(limit))
        return [m.review_from(r) for r in rows]

    def summary(self, shop_id: str) -> tuple[int, float | None]:
        count, average = self._c.execute(
            select(func.count(), func.avg(_R.rating)).where(_R.tenant_id == self._tenant, _R.shop_id == shop_id)
        ).one()
        return int(count), (round(float(average), 2) if average is not None else None)


class SqlStaffRepository(_Scoped):
    def get(self, user_id: str) -> StaffUser | None:
        row = self._c.execute(
            select(t.staff_users).where(t.staff_users.c.tenant_id == self._tenant, t.staff_users.c.id == user_id)
        ).one_or_none()
        return m.staff_from(row) if row else None

    def by_email(self, email: str) -> StaffUser | None:
        row = self._c.execute(
            select(t.staff_users).where(t.staff_users.c.tenant_id == self._tenant, t.staff_users.c.email == email)
        ).one_or_none()
        return m.staff_from(row) if row else None

    def list(self) -> list[StaffUser]:
        rows = self._c.execute(
            select(t.staff_users).where(t.staff_users.c.tenant_id == self._tenant).order_by(t.staff_users.c.email)
        )
        return [m.staff_from(r) for r in rows]

    def add(self, user: StaffUser) -> None:
        self._c.execute(insert(t.staff_users).values(m.staff_row(user) | {"tenant_id": self._tenant}))

    def update(self, user: StaffUser) -> None:
        self._c.execute(
            update(t.staff_users)
            .where(t.staff_users.c.tenant_id == self._tenant, t.staff_users.c.id == user.id)
            .values(m.staff_row(user) | {"tenant_id": self._tenant})
        )


class SqlTokenRepository(_Scoped):
    def add(self, token: ApiToken) -> None:
        self._c.execute(insert(t.api_tokens).values(m.token_row(token) | {"tenant_id": self._tenant}))

    def get(self, token_id: str) -> ApiToken | None:
        row = self._c.execute(
            select(t.api_tokens).where(t.api_tokens.c.tenant_id == self._tenant, t.api_tokens.c.id == token_id)
        ).one_or_none()
        return m.token_from(row) if row else None

    def unrevoked_for_user(self, user_id: str) -> list[ApiToken]:
        rows = self._c.execute(
            select(t.api_tokens).where(
                t.api_tokens.c.tenant_id == self._tenant,
                t.api_tokens.c.user_id == user_id,
                t.api_tokens.c.revoked_at.is_(None),
            )
        )
        return [m.token_from(row) for row in rows]

    def update(self, token: ApiToken) -> None:
        self._c.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.tenant_id == self._tenant, t.api_tokens.c.id == token.id)
            .values(revoked_at=token.revoked_at, name=token.name)
        )


class SqlIdempotencyRepository(_Scoped):
    def get(self, key: str) -> IdempotencyRecord | None:
        row = self._c.execute(_IDEMPOTENCY, {"t": self._tenant, "key": key}).one_or_none()
        return IdempotencyRecord(row.key, row.fingerprint, row.booking_id, row.created_at) if row else None

    def add(self, record: IdempotencyRecord) -> None:
        # A concurrent twin with the same key makes this fail, rolling back its booking too.
        try:
            with self._c.begin_nested():
                self._c.execute(
                    _INSERT["idempotency_keys"],
                    {
                        "tenant_id": self._tenant,
                        "key": record.key,
                        "fingerprint": record.fingerprint,
                        "booking_id": record.booking_id,
                        "created_at": record.created_at,
                    },
                )
        except IntegrityError as error:
            raise ConcurrentRequest(
                "a request with this Idempotency-Key is already being processed", field="Idempotency-Key"
            ) from error


class SqlAuditLog(_Scoped):
    def add(self, entry: AuditEntry) -> None:
        self._c.execute(
            _INSERT["audit_log"],
            {
                "id": entry.id,
                "tenant_id": self._tenant,
                "actor": entry.actor,
                "action": entry.action,
                "entity_type": entry.entity_type,
                "entity_id": entry.entity_id,
                "before": entry.before,
                "after": entry.after,
                "request_id": entry.request_id,
                "occurred_at": entry.occurred_at,
            },
        )

    def list(
        self,
        *,
        entity_id: str | None = None,
        action: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        query = select(t.audit_log).where(t.audit_log.c.tenant_id == self._tenant)
        if entity_id is not None:
            query = query.where(t.audit_log.c.entity_id == entity_id)
        if action is not None:
            query = query.where(t.audit_log.c.action == action)
        order = t.audit_log.c.seq.desc() if newest_first else t.audit_log.c.seq
        rows = self._c.execute(query.order_by(order).limit(limit))
        return [_audit_entry(r) for r in rows]

    def first_per_entity(self, entity_ids: Iterable[str], action: str) -> dict[str, AuditEntry]:
        found: dict[str, AuditEntry] = {}
        for chunk in id_chunks(entity_ids):
            rows = self._c.execute(
                select(t.audit_log)
                .where(
                    t.audit_log.c.tenant_id == self._tenant,
                    t.audit_log.c.entity_id.in_(chunk),
                    t.audit_log.c.action == action,
                )
                .order_by(t.audit_log.c.seq)
            )
            for r in rows:
                if r.entity_id not in found:  # the lowest seq, as `list(..., limit=1)` returns
                    found[r.entity_id] = _audit_entry(r)
        return found


def _audit_entry(r: Any) -> AuditEntry:
    return AuditEntry(
        r.id, r.tenant_id, r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after, r.request_id, r.occurred_at
    )


class SqlOutbox(_Scoped):
    def add(self, event: DomainEvent) -> None:
        self._c.execute(
            _INSERT["outbox"],
            {
                "id": new_id(),
                "tenant_id": self._tenant,
                "name": event.name,
                "entity_id": event.entity_id,
                "occurred_at": event.occurred_at,
                "data": event.data,
                "published_at": None,
            },
        )
