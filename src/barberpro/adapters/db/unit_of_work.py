"""The SQL unit of work: one connection, one transaction, one tenant."""

from __future__ import annotations

import hashlib
from types import TracebackType

from sqlalchemy import Connection, RootTransaction, text

from barberpro.adapters.db.consents import SqlConsentRepository
from barberpro.adapters.db.engine import Database
from barberpro.adapters.db.repositories import (
    SqlAuditLog,
    SqlBarberRepository,
    SqlBookingRepository,
    SqlCustomerRepository,
    SqlIdempotencyRepository,
    SqlOutbox,
    SqlReviewRepository,
    SqlScheduleRepository,
    SqlServiceRepository,
    SqlShopRepository,
    SqlStaffRepository,
    SqlTenantRepository,
    SqlTokenRepository,
)
from barberpro.application import ports


class SqlUnitOfWork:
    """`with uow:` opens the transaction; `commit()` ends it; leaving without commit rolls back.

    On PostgreSQL the transaction runs as the restricted role with the tenant set, so
    row-level security filters every statement even if a query forgot its tenant filter.
    """

    tenant: ports.TenantRepository
    shops: ports.ShopRepository
    barbers: ports.BarberRepository
    services: ports.ServiceRepository
    schedules: ports.ScheduleRepository
    bookings: ports.BookingRepository
    customers: ports.CustomerRepository
    consents: ports.ConsentRepository
    reviews: ports.ReviewRepository
    staff: ports.StaffRepository
    tokens: ports.TokenRepository
    idempotency: ports.IdempotencyRepository
    audit: ports.AuditLog
    outbox: ports.Outbox

    def __init__(self, database: Database, tenant_id: str, *, write: bool = True) -> None:
        self.tenant_id = tenant_id
        self._database = database
        self._write = write
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._locked = False
        self.committed = False

    def __enter__(self) -> SqlUnitOfWork:
        engine = self._database.write_engine if self._write else self._database.engine
        self._locked = self._write and self._database.write_lock is not None
        if self._locked:
            assert self._database.write_lock is not None
            self._database.write_lock.acquire()
        try:
            connection = engine.connect()
            self._connection = connection
            self._transaction = connection.begin()
            self._scope_transaction(connection)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        scope = (connection, self.tenant_id)
        self.tenant = SqlTenantRepository(*scope)
        self.shops = SqlShopRepository(*scope)
        self.barbers = SqlBarberRepository(*scope)
        self.services = SqlServiceRepository(*scope)
        self.schedules = SqlScheduleRepository(*scope)
        self.bookings = SqlBookingRepository(*scope)
        self.customers = SqlCustomerRepository(*scope)
        self.consents = SqlConsentRepository(*scope)
        self.reviews = SqlReviewRepository(*scope)
        self.staff = SqlStaffRepository(*scope)
        self.tokens = SqlTokenRepository(*scope)
        self.idempotency = SqlIdempotencyRepository(*scope)
        self.audit = SqlAuditLog(*scope)
        self.outbox = SqlOutbox(*scope)
        return self

    def _scope_transaction(self, connection: Connection) -> None:
        if self._database.dialect != "postgresql":
            return
        if self._database.rls_role:
            connection.execute(
                text("SELECT set_config('role', :role, true), set_config('barberpro.tenant_id', :tenant, true)"),
                {"role": self._database.rls_role, "tenant": self.tenant_id},
            )
        else:
            connection.execute(
                text("SELECT set_config('barberpro.tenant_id', :tenant, true)"), {"tenant": self.tenant_id}
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._transaction = None
            self._release()

    def _release(self) -> None:
        if self._locked and self._database.write_lock is not None:
            self._locked = False
            self._database.write_lock.release()

    def commit(self) -> None:
        assert self._transaction is not None, "commit outside `with uow:`"
        self._transaction.commit()
        self.committed = True

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()

    def lock(self, scope: str, key: str) -> None:
        """Serialise with every other transaction that locks the same (tenant, scope, key).

        PostgreSQL: a transaction-level advisory lock, released by commit or rollback. It is
        narrower than `SELECT ... FOR UPDATE` on the tenant row (which would also hold up branding
        changes and anything else touching that row) and needs no grant: advisory-lock functions
        are executable by PUBLIC, so the row-level-security role may call them. The key includes
        the tenant, so tenants never wait for each other.
        SQLite: a write unit of work already holds the database's only write lock (the in-process
        writer lock, then `BEGIN IMMEDIATE`) from its first statement, so it is serialised with
        every other writer already; there is nothing more to take.
        """
        if self._connection is None:
            raise RuntimeError("lock() outside `with uow:`")
        if not self._write:
            raise RuntimeError("lock() needs a write unit of work")
        if self._database.dialect == "postgresql":
            self._connection.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"),
                {"key": advisory_key(self.tenant_id, scope, key)},
            )


def advisory_key(tenant_id: str, scope: str, key: str) -> int:
    """A stable signed 64-bit number for (tenant, scope, key): the same in every process and release."""
    digest = hashlib.blake2b(f"{tenant_id}\x1f{scope}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlUnitOfWorkFactory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, tenant_id: str, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, tenant_id, write=write)
