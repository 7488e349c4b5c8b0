"""Builders for platform tests: a migrated database, a tenant with a shop, and an HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, text

from barberpro.adapters.clock import FixedClock
from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWork
from barberpro.adapters.security.passwords import Argon2PasswordHasher
from barberpro.application import catalog
from barberpro.application.context import Context
from barberpro.application.payment_ports import Invoice, InvoiceStatus, Payment, PaymentStatus
from barberpro.application.provisioning import provision_tenant
from barberpro.bootstrap import Platform, build, migrate
from barberpro.config import Settings
from barberpro.domain.booking import SYSTEM, Actor, ActorKind, Role
from barberpro.domain.identifiers import new_id
from barberpro.domain.schedules import WorkingDay

# Monday 2 March 2026, 09:00 in Buenos Aires (12:00 UTC).
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
SECRET = "test-secret-key-with-at-least-32-characters!"


def insert_bare_tenant(connection: Connection, tenant_id: str, created_at: datetime) -> None:
    """A tenant row as an older schema holds it (migration tests; no shop, no staff)."""
    connection.execute(
        text(
            "INSERT INTO tenants (id, slug, name, theme, locale, currency, created_at) "
            "VALUES (:id, :id, :id, '{}', 'es-AR', 'ARS', :now)"
        ),
        {"id": tenant_id, "now": created_at},
    )


def fast_hasher() -> Argon2PasswordHasher:
    """Still Argon2id, with small costs so that tests log in quickly."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_platform(database_url: str, tmp_path: Path, clock: FixedClock | None = None) -> Platform:
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        var_dir=str(tmp_path),
        default_tenant="alpha",
        log_json=True,
        log_level="WARNING",
        outbox_poll_seconds=0.05,
        # Platform tests fire bursts from one address; the gateway's own tests turn limits on.
        rate_limit_enabled=False,
    )
    migrate(settings)
    return build(settings, clock=clock or FixedClock(T0), hasher=fast_hasher())


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'barberpro.db'}"


@dataclass
class TenantFixture:
    tenant_id: str
    slug: str
    owner_id: str
    owner_email: str
    shop_id: str
    barber_ids: list[str]
    service_id: str
    long_service_id: str
    extra: dict[str, str] = field(default_factory=dict)


def make_tenant(platform: Platform, slug: str, *, barbers: int = 3) -> TenantFixture:
    """A tenant with one shop (Buenos Aires), barbers working Mon-Sat 09-18 with lunch 13-14."""
    tenant_id = new_id()
    now = platform.clock.now()
    email = f"owner@{slug}.example.com"
    _, owner = provision_tenant(
        platform.uow(tenant_id),
        Context(tenant_id, SYSTEM, "test", now),
        platform.hasher,
        slug=slug,
        name=f"Barbería {slug.title()}",
        domains=(f"{slug}.example.com",),
        owner_email=email,
        owner_name="Dueño",
        owner_password=PASSWORD,
    )
    ctx = Context(tenant_id, Actor(ActorKind.STAFF, owner.id, Role.OWNER), "test", now)
    shop = catalog.create_shop(
        platform.uow(tenant_id),
        ctx,
        name=f"{slug} centro",
        address="Corrientes 1234",
        timezone="America/Argentina/Buenos_Aires",
        min_notice_minutes=60,
        horizon_days=30,
        cancel_cutoff_minutes=120,
        slot_step_minutes=15,
    )
    barber_ids = []
    for index in range(barbers):
        barber = catalog.create_barber(platform.uow(tenant_id), ctx, shop_id=shop.id, name=f"Barbero {index + 1}")
        catalog.set_working_hours(
            platform.uow(tenant_id),
            ctx,
            barber_id=barber.id,
            days=[WorkingDay(d, ((time(9), time(18)),), ((time(13), time(14)),)) for d in range(6)],
        )
        barber_ids.append(barber.id)
    service = catalog.create_service(
        platform.uow(tenant_id),
        ctx,
        shop_id=shop.id,
        name="Corte",
        duration_minutes=30,
        price=Decimal("12000.00"),
        buffer_after_minutes=10,
    )
    long_service = catalog.create_service(
        platform.uow(tenant_id), ctx, shop_id=shop.id, name="Color", duration_minutes=90, price=Decimal("30000.50")
    )
    return TenantFixture(tenant_id, slug, owner.id, email, shop.id, barber_ids, service.id, long_service.id)


def store_paid_invoice(
    platform: Platform,
    tenant: TenantFixture,
    booking_id: str,
    day: date,
    *,
    refunded: Decimal = Decimal("0.00"),
    number: int = 42,
    receiver: str = "Ana Pérez",
) -> tuple[Payment, Invoice]:
    """An approved MercadoPago payment of $ 12.000 and its authorised Factura C (point of sale 3),
    written straight to the database (as if the webhook and AFIP had done their part)."""
    now = platform.clock.now()
    payment = Payment(id=new_id(), tenant_id=tenant.tenant_id, booking_id=booking_id, amount=Decimal("12000.00"),
                      status=PaymentStatus.APPROVED, hold_until=now, created_at=now, updated_at=now,
                      paid_amount=Decimal("12000.00"), refunded_amount=refunded)  # fmt: skip
    invoice = Invoice(id=new_id(), tenant_id=tenant.tenant_id, booking_id=booking_id, cuit="20123456786",
                      point_of_sale=3, voucher_type=11, status=InvoiceStatus.AUTHORIZED, issue_date=day,
                      service_from=day, service_to=day, doc_type=99, doc_number="0",
                      receiver_iva_condition=5, receiver_name=receiver, description="Corte",
                      total=Decimal("12000.00"), net=Decimal("12000.00"), vat=Decimal("0.00"), created_at=now,
                      updated_at=now, payment_id=payment.id, number=number, cae="74123456789012",
                      cae_due=day + timedelta(days=10))  # fmt: skip
    with SqlPaymentsUnitOfWork(platform.database, tenant.tenant_id) as uow:
        uow.payments.add(payment)
        uow.invoices.add(invoice)
        uow.commit()
    return payment, invoice
