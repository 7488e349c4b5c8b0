"""What safe AFIP numbering costs: invoices per second on one point of sale.

Every invoice on one (CUIT, point of sale, type) is numbered under a lock held across the
remote calls, so concurrency cannot raise the throughput of one point of sale; what can is
the number of round trips under the lock. Baseline (measured in the same run): ask
FECompUltimoAutorizado before every FECAESolicitar, sequentially and with W workers.
Shipped default: trust the local counter (kept under the same lock) and resynchronise only
when AFIP answers 10016. Each run checks the numbering is gap-free and duplicate-free. The
fake AFIP answers after an injected round-trip time (default 20 ms). Real adapters: SQLite,
the WSAA CMS signer, the WSFEv1 SOAP client.

    .venv/bin/python benchmarks/payments_invoice_numbering.py [--invoices 40] [--workers 8] [--rtt-ms 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

import httpx

from barberpro.adapters.clock import FixedClock
from barberpro.adapters.invoicing.certificates import DevAuthority, certificate_request, key_pem, new_key
from barberpro.adapters.invoicing.fake_afip.service import FakeAfip
from barberpro.adapters.payments.services import PaymentEnvironment, PaymentServices
from barberpro.adapters.security.passwords import Argon2PasswordHasher
from barberpro.application import catalog, invoicing
from barberpro.application.bookings import BookAppointment, CustomerDetails, book_appointment
from barberpro.application.context import Context
from barberpro.application.payment_ports import IvaCondition, TaxProfile
from barberpro.application.provisioning import provision_tenant
from barberpro.bootstrap import build, migrate
from barberpro.config import Settings
from barberpro.domain.booking import SYSTEM, Actor, ActorKind, Role
from barberpro.domain.identifiers import new_id
from barberpro.domain.schedules import WorkingDay

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CUIT = "20123456786"


class SlowTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, rtt: float) -> None:
        self.inner, self.rtt, self.calls = inner, rtt, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.rtt)
        self.calls += 1
        return self.inner.handle_request(request)


def setup(root: Path, invoices: int, rtt: float) -> tuple[PaymentServices, Context, list[str], FakeAfip, SlowTransport]:
    settings = Settings(
        database_url=f"sqlite:///{root / 'bench.db'}",
        secret_key="x" * 40,
        var_dir=str(root),
        log_json=True,
        log_level="WARNING",
    )
    migrate(settings)
    platform = build(
        settings, clock=FixedClock(T0), hasher=Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    tenant_id = new_id()
    _, owner = provision_tenant(
        platform.uow(tenant_id),
        Context(tenant_id, SYSTEM, "bench", T0),
        platform.hasher,
        slug="bench",
        name="Bench",
        domains=(),
        owner_email="o@bench.example.com",
        owner_name="O",
        owner_password="correct horse battery",
    )
    ctx = Context(tenant_id, Actor(ActorKind.STAFF, owner.id, Role.OWNER), "bench", T0)
    shop = catalog.create_shop(
        platform.uow(tenant_id),
        ctx,
        name="Bench",
        address="-",
        timezone="America/Argentina/Buenos_Aires",
        min_notice_minutes=0,
        horizon_days=60,
        cancel_cutoff_minutes=0,
        slot_step_minutes=15,
    )
    barber = catalog.create_barber(platform.uow(tenant_id), ctx, shop_id=shop.id, name="B")
    catalog.set_working_hours(
        platform.uow(tenant_id),
        ctx,
        barber_id=barber.id,
        days=[WorkingDay(d, ((clock_time(8), clock_time(20)),), ()) for d in range(7)],
    )
    service = catalog.create_service(
        platform.uow(tenant_id), ctx, shop_id=shop.id, name="Corte", duration_minutes=30, price=Decimal("12000.00")
    )
    bookings = []
    for index in range(invoices):
        start = T0 + timedelta(days=1 + index // 20, minutes=30 * (index % 20))
        cmd = BookAppointment(
            shop.id, service.id, barber.id, start, CustomerDetails("C", f"+54 9 11 4000-{index:04d}", "c@example.com")
        )
        bookings.append(book_appointment(platform.uow(tenant_id), ctx, cmd).booking.id)
    authority = DevAuthority.create(T0 - timedelta(days=1))
    key = new_key()
    (root / "afip.key").write_bytes(key_pem(key))
    certificate = authority.issue(certificate_request(key, cuit=CUIT, organization="Bench", alias="b"), T0)
    fake = FakeAfip(authority.certificate, clock=lambda: T0)
    transport = SlowTransport(fake.transport(), rtt)
    services = PaymentServices(
        platform.database,
        str(root),
        platform.clock.now,
        environment=PaymentEnvironment(
            afip_wsaa_url="http://fake/ws/services/LoginCms", afip_wsfe_url="http://fake/wsfev1/service.asmx"
        ),
        afip_transport=transport,
    )
    invoicing.configure_tax_profile(
        services.uows(tenant_id),
        ctx,
        TaxProfile(
            tenant_id,
            CUIT,
            "Bench",
            "-",
            IvaCondition.MONOTRIBUTO,
            1,
            "homologacion",
            "-",
            date(2020, 1, 1),
            certificate.decode(),
            str(root / "afip.key"),
        ),
    )
    return services, ctx, bookings, fake, transport


def run(invoices: int, workers: int, rtt: float, trust_counter: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        services, ctx, bookings, fake, transport = setup(Path(tmp), invoices, rtt)
        latencies: list[float] = []
        lock = threading.Lock()
        with services.uows(ctx.tenant_id, write=False) as uow:
            profile = uow.tax_profiles.get()
        assert profile is not None

        def one(booking_id: str) -> int | None:
            started = time.perf_counter()
            draft = invoicing.draft_invoice(services.uows(ctx.tenant_id), ctx, booking_id)
            authority = services.tax_authority(profile)
            done = invoicing.issue_invoice(
                services.uows, ctx, authority, services.lock, draft.id, trust_counter=trust_counter
            )
            with lock:
                latencies.append(time.perf_counter() - started)
            return done.number

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            numbers = list(pool.map(one, bookings))
        wall = time.perf_counter() - started
        issued = [v.number for v in fake.vouchers[(CUIT, 1, 11)]]
        latencies.sort()
        return {
            "workers": workers,
            "numbering": "local counter, resync on 10016" if trust_counter else "FECompUltimoAutorizado every time",
            "invoices": invoices,
            "wall_seconds": round(wall, 3),
            "invoices_per_second": round(invoices / wall, 2),
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 1),
            "afip_calls": transport.calls,
            "numbers_consecutive": sorted(n for n in numbers if n) == list(range(1, invoices + 1)) == issued,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    args = parser.parse_args()
    rtt = args.rtt_ms / 1000
    baseline_sequential = run(args.invoices, 1, rtt, trust_counter=False)
    baseline_concurrent = run(args.invoices, args.workers, rtt, trust_counter=False)
    shipped = run(args.invoices, args.workers, rtt, trust_counter=True)
    print(
        json.dumps(
            {
                "afip_rtt_ms": args.rtt_ms,
                "baseline_sequential": baseline_sequential,
                "baseline_concurrent": baseline_concurrent,
                "shipped_concurrent": shipped,
                "throughput_ratio_shipped_over_baseline_concurrent": round(
                    float(shipped["invoices_per_second"]) / float(baseline_concurrent["invoices_per_second"]),
                    2,  # type: ignore[arg-type]
                ),
                "ceiling_one_round_trip_per_invoice": round(1 / rtt, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
