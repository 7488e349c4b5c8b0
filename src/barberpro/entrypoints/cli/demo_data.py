"""Demo data: two tenants with different brands, so every page and report has something to show."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from barberpro.application import catalog
from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.provisioning import provision_tenant
from barberpro.application.staff_auth import create_staff_user
from barberpro.bootstrap import Platform
from barberpro.domain.booking import SYSTEM, Actor, ActorKind, Booking, BookingStatus, Review, Role
from barberpro.domain.customers import Customer
from barberpro.domain.identifiers import new_id
from barberpro.domain.schedules import ExceptionKind, WorkingDay
from barberpro.domain.slots import BarberWeek, BusyInterval, available_slots
from barberpro.domain.tenancy import Barber, BookingPolicy, Service

DEMO_PASSWORD = "barberpro-demo-2026"  # noqa: S105 - published demo credentials, local only

FIRST = [
    "Juan",
    "Martín",
    "Lucas",
    "Santiago",
    "Mateo",
    "Facundo",
    "Nicolás",
    "Tomás",
    "Agustín",
    "Lautaro",
    "Valentina",
    "Camila",
    "Sofía",
    "Julieta",
    "Bruno",
    "Ignacio",
    "Franco",
    "Gonzalo",
    "Diego",
    "Matías",
]
LAST = [
    "González",
    "Rodríguez",
    "Gómez",
    "Fernández",
    "López",
    "Díaz",
    "Martínez",
    "Pérez",
    "Romero",
    "Sosa",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Ramírez",
    "Flores",
    "Benítez",
    "Acosta",
    "Medina",
    "Herrera",
    "Suárez",
]


@dataclass(frozen=True)
class ShopPlan:
    name: str
    address: str
    timezone: str
    barbers: tuple[str, ...]
    services: tuple[tuple[str, int, str, int], ...]  # name, minutes, price, buffer


@dataclass(frozen=True)
class TenantPlan:
    slug: str
    name: str
    theme: dict[str, str]
    owner: str
    shops: tuple[ShopPlan, ...]
    bookings_per_barber_day: int


CLASSIC_SERVICES = (
    ("Corte clásico", 30, "12000.00", 10),
    ("Corte y barba", 45, "18500.00", 15),
    ("Arreglo de barba", 20, "8000.00", 10),
    ("Afeitado con navaja", 30, "11000.00", 10),
    ("Corte infantil", 30, "9500.00", 10),
    ("Color y corte", 90, "32000.00", 15),
)

PLANS = (
    TenantPlan(
        slug="demo",
        name="Barbería El Bigote",
        theme={"primary": "#1f3a5f", "accent": "#b5412a", "background": "#ffffff", "text": "#1b1b1b"},
        owner="dueno@elbigote.com.ar",
        shops=(
            ShopPlan(
                "El Bigote Palermo",
                "Thames 1650, Palermo, CABA",
                "America/Argentina/Buenos_Aires",
                ("Ramiro Castro", "Lucía Benítez", "Diego Ferreyra"),
                CLASSIC_SERVICES,
            ),
            ShopPlan(
                "El Bigote Córdoba",
                "Av. Colón 455, Córdoba",
                "America/Argentina/Cordoba",
                ("Emiliano Quiroga", "Paula Moyano", "Gastón Ledesma"),
                CLASSIC_SERVICES,
            ),
        ),
        bookings_per_barber_day=3,
    ),
    TenantPlan(
        slug="navaja",
        name="La Navaja Club",
        theme={"primary": "#234d20", "accent": "#7a4b00", "background": "#fbf8f1", "text": "#222222"},
        owner="hola@lanavaja.club",
        shops=(
            ShopPlan(
                "La Navaja Rosario",
                "Bv. Oroño 1100, Rosario",
                "America/Argentina/Buenos_Aires",
                ("Federico Ibarra", "Marina Toledo"),
                (("Corte navaja", 40, "15000.00", 5), ("Barba premium", 30, "10000.00", 5)),
            ),
        ),
        bookings_per_barber_day=2,
    ),
)

WEEK = (
    *(WorkingDay(d, ((time(10), time(20)),), ((time(14), time(15)),)) for d in range(1, 5)),  # Tue-Fri
    WorkingDay(5, ((time(9), time(18)),)),  # Saturday, no break
)


def _ctx(tenant_id: str, now: datetime, actor: Actor = SYSTEM) -> Context:
    return Context(tenant_id=tenant_id, actor=actor, request_id="demo-seed", now=now)


def seed_tenant(platform: Platform, plan: TenantPlan, rng: random.Random, now: datetime) -> dict[str, object]:
    tenant_id = new_id()
    uow = platform.uow
    tenant, owner = provision_tenant(
        uow(tenant_id),
        _ctx(tenant_id, now),
        platform.hasher,
        slug=plan.slug,
        name=plan.name,
        domains=(f"{plan.slug}.localhost",),
        theme=plan.theme,
        owner_email=plan.owner,
        owner_name="Dueño " + plan.name,
        owner_password=DEMO_PASSWORD,
    )
    ctx = _ctx(tenant_id, now, Actor(ActorKind.STAFF, owner.id, Role.OWNER))
    count = 0
    for shop_plan in plan.shops:
        shop = catalog.create_shop(
            uow(tenant_id),
            ctx,
            name=shop_plan.name,
            address=shop_plan.address,
            timezone=shop_plan.timezone,
            min_notice_minutes=60,
            horizon_days=60,
        )
        barbers = [
            catalog.create_barber(uow(tenant_id), ctx, shop_id=shop.id, name=n, bio="Barbero/a con oficio.")
            for n in shop_plan.barbers
        ]
        services = [
            catalog.create_service(
                uow(tenant_id),
                ctx,
                shop_id=shop.id,
                name=n,
                duration_minutes=m,
                price=Decimal(p),
                buffer_after_minutes=b,
            )
            for n, m, p, b in shop_plan.services
        ]
        for index, barber in enumerate(barbers):
            week = WEEK if index % 3 else (*WEEK, WorkingDay(0, ((time(12), time(20)),)))
            catalog.set_working_hours(uow(tenant_id), ctx, barber_id=barber.id, days=week)
        today = now.astimezone(shop.zone).date()
        for holiday in _holidays(today):
            catalog.add_exception(
                uow(tenant_id),
                ctx,
                shop_id=shop.id,
                day=holiday,
                kind=ExceptionKind.HOLIDAY,
                note="Feriado nacional",
            )
        catalog.add_exception(
            uow(tenant_id),
            ctx,
            shop_id=shop.id,
            day=today + timedelta(days=3),
            kind=ExceptionKind.DAY_OFF,
            barber_id=barbers[0].id,
            note="Franco",
        )
        catalog.add_exception(
            uow(tenant_id),
            ctx,
            shop_id=shop.id,
            day=date(today.year, 12, 24) if date(today.year, 12, 24) > today else date(today.year + 1, 12, 24),
            kind=ExceptionKind.SPECIAL_HOURS,
            intervals=((time(9), time(14)),),
            note="Nochebuena: horario reducido",
        )
        count += _seed_bookings(platform, ctx, shop.id, barbers, services, plan.bookings_per_barber_day, rng, now)
        create_staff_user(
            uow(tenant_id),
            ctx,
            platform.hasher,
            email=f"{barbers[0].name.split()[0].lower()}@{plan.owner.split('@')[1]}",
            name=barbers[0].name,
            password=DEMO_PASSWORD,
            role=Role.BARBER,
            barber_id=barbers[0].id,
        )
    return {"tenant": tenant.slug, "owner": owner.email, "password": DEMO_PASSWORD, "bookings": count}


def _holidays(today: date) -> list[date]:
    fixed = [(1, 1), (3, 24), (4, 2), (5, 1), (5, 25), (6, 20), (7, 9), (12, 8), (12, 25)]
    days = [date(y, m, d) for y in (today.year, today.year + 1) for m, d in fixed]
    return [d for d in days if today - timedelta(days=30) <= d <= today + timedelta(days=60)]


def _seed_bookings(
    platform: Platform,
    ctx: Context,
    shop_id: str,
    barbers: list[Barber],
    services: list[Service],
    per_day: int,
    rng: random.Random,
    now: datetime,
) -> int:
    """Past visits (completed, some no-shows and cancellations, reviews) and upcoming bookings."""
    created = 0
    with platform.uow(ctx.tenant_id) as uow:
        shop = uow.shops.get(shop_id)
        assert shop is not None
        weeks = uow.schedules.weeks([b.id for b in barbers])
        open_policy = BookingPolicy(min_notice=timedelta(0), horizon=timedelta(days=400))
        today = now.astimezone(shop.zone).date()
        busy: list[BusyInterval] = []
        customers: list[Customer] = []
        for _ in range(40):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            phone = f"+54911{rng.randint(20000000, 69999999)}"
            if uow.customers.by_phone(phone):
                continue
            customer = Customer.create(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                name=name,
                phone=phone,
                email=f"{name.split()[0].lower()}.{rng.randint(1, 999)}@example.com",
            )
            uow.customers.add(customer)
            customers.append(customer)
        exceptions = uow.schedules.exceptions(shop.id, today - timedelta(days=31), today + timedelta(days=15))
        for offset in range(-30, 15):
            day = today + timedelta(days=offset)
            for barber in barbers:
                service = rng.choice(services)
                slots = available_slots(
                    zone=shop.zone,
                    days=[day],
                    duration=service.duration,
                    buffer_after=service.buffer_after,
                    barbers=[BarberWeek(barber.id, weeks[barber.id])],
                    exceptions=exceptions,
                    busy=busy,
                    now=now - timedelta(days=60),
                    policy=open_policy,
                )
                for slot in rng.sample(slots, min(per_day, len(slots))):
                    start = slot.start.astimezone(UTC)
                    if any(
                        b.barber_id == barber.id and b.start < start + service.blocked_for and b.end > start
                        for b in busy
                    ):
                        continue
                    past = start + service.duration < now
                    status = BookingStatus.CONFIRMED
                    if past:
                        status = rng.choices(
                            [BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED],
                            [85, 7, 8],
                        )[0]
                    elif rng.random() < 0.05:
                        status = BookingStatus.CANCELLED
                    booking = Booking(
                        id=new_id(),
                        tenant_id=ctx.tenant_id,
                        shop_id=shop.id,
                        barber_id=barber.id,
                        service_id=service.id,
                        customer_id=rng.choice(customers).id,
                        start=start,
                        end=start + service.duration,
                        blocks_until=start + service.blocked_for,
                        status=status,
                        price=service.price,
                        created_at=min(now, start - timedelta(days=2)),
                    )
                    uow.bookings.add(booking)
                    if status is not BookingStatus.CANCELLED:
                        busy.append(BusyInterval(barber.id, start, booking.blocks_until))
                    record(
                        uow,
                        replace(ctx, actor=SYSTEM),
                        action="BookingSeeded",
                        entity_type="booking",
                        entity_id=booking.id,
                        after=booking,
                    )
                    created += 1
                    if status is BookingStatus.COMPLETED and rng.random() < 0.4:
                        uow.reviews.add(
                            Review.for_booking(
                                id=new_id(),
                                booking=booking,
                                rating=rng.choices([5, 4, 3, 2], [60, 28, 8, 4])[0],
                                text=rng.choice(
                                    [
                                        "Excelente atención.",
                                        "Muy buen corte, vuelvo seguro.",
                                        "Puntuales y prolijos.",
                                        "Bien, aunque esperé un poco.",
                                    ]
                                ),
                                now=booking.end + timedelta(hours=2),
                            )
                        )
        uow.commit()
    return created


def seed_demo(platform: Platform, *, seed: int = 2026) -> list[dict[str, object]]:
    rng = random.Random(seed)
    now = platform.clock.now()
    return [seed_tenant(platform, plan, rng, now) for plan in PLANS]
