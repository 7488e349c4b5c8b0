"""The retry job invoices what the platform should have invoiced and did not, on each database.

A payment taken through MercadoPago since the business's invoicing began, that kept money and
whose booking has no invoice (the drafting failed outright, or a chargeback settled before
invoicing was won back), is invoiced by `payments reconcile`'s sweep. Sales before invoicing
began, payments that kept nothing, and other tenants' payments are left alone; a booking the job
cannot invoice on its own is reported and does not hide the ones after it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_credit_notes import (
    FACTURA_C_KEY,
    NOTHING_SWEPT,
    applied_without_invoice,
    charge_back,
    payment_detail,
    refund_directly,
)
from test_payments_flow import audit_actions
from test_payments_support import PaymentWorld, payment_world

from barberpro.adapters.clock import FixedClock
from barberpro.adapters.db.engine import open_database
from barberpro.adapters.db.migrate import upgrade
from barberpro.adapters.invoicing.sql_repositories import SqlTaxProfileRepository
from barberpro.application import invoicing, payment_notifications
from barberpro.application.payment_ports import InvoiceStatus
from barberpro.bootstrap import Platform
from barberpro.entrypoints.cli.payments import reconcile_tenants
from conftest import staff_headers
from platform_fixtures import TenantFixture, insert_bare_tenant


def provider_id(world: PaymentWorld, booking_id: str) -> str:
    with world.services.uows(world.tenant.tenant_id, write=False) as uow:
        payment = uow.payments.for_booking(booking_id)
    assert payment is not None and payment.provider_payment_id is not None
    return payment.provider_payment_id


def paid_later(client: TestClient, world: PaymentWorld, start: str, phone: str) -> str:
    """applied_without_invoice a minute after the last one (sweeps read in the order payments came)."""
    clock = world.platform.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=1))
    return applied_without_invoice(client, world, start, phone)


def won_back_quietly(world: PaymentWorld, booking_id: str) -> None:
    """Charged back, settled against the shop, then won on appeal, each applied by the
    reconciliation's own reading (no webhook, so nothing invoiced it on the way)."""
    s, paid = world.services, provider_id(world, booking_id)
    for detail in ("settled", "reimbursed"):
        world.mp.set_status(paid, "charged_back", detail)
        applied = payment_notifications.process_notification(s.uows, world.owner(), s.gateway, paid)
        assert applied.outcome == "charged_back"


def test_a_chargeback_won_before_invoicing_is_invoiced_when_the_webhook_says_so(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    owner = staff_headers(client, alpha.owner_email)
    booking_id = applied_without_invoice(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    paid = provider_id(world, booking_id)
    # Settled against the shop before anything was invoiced: nothing to invoice, nothing to credit.
    charge_back(client, world, paid, "settled")
    assert payment_detail(client, owner, booking_id)["invoice"] is None
    # Won on appeal: the money is the shop's, so the sale is invoiced now, once.
    charge_back(client, world, paid, "reimbursed")
    detail = payment_detail(client, owner, booking_id)
    assert (detail["invoice"]["status"], detail["invoice"]["total"]) == ("authorized", "12000.00")
    assert detail["credit_notes"] == [] and detail["debit_notes"] == []
    assert len(world.afip.vouchers[FACTURA_C_KEY]) == 1
    s = world.services
    assert invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock) == NOTHING_SWEPT
    assert audit_actions(platform, alpha, detail["invoice"]["id"]).count("InvoiceDrafted") == 1


def test_the_retry_job_invoices_payments_left_without_an_invoice(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s = world.services
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    with s.uows(alpha.tenant_id) as uow:
        profile = uow.tax_profiles.get()
        assert profile is not None and profile.invoicing_since == clock.now()
        # Invoicing through the platform began an hour from now: what is paid before stays out.
        uow.tax_profiles.put(replace(profile, invoicing_since=clock.now() + timedelta(hours=1)))
        uow.commit()
    earlier = applied_without_invoice(client, world, "2026-03-03T09:00:00-03:00", "+54 9 11 2345-0009")
    clock.advance(timedelta(hours=2))

    forgotten = paid_later(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    won = paid_later(client, world, "2026-03-03T11:00:00-03:00", "+54 9 11 2345-0002")
    won_back_quietly(world, won)
    returned = paid_later(client, world, "2026-03-03T12:00:00-03:00", "+54 9 11 2345-0003")
    refund_directly(world, returned, None)  # refunded in full: nothing was sold
    kept_part = paid_later(client, world, "2026-03-04T10:00:00-03:00", "+54 9 11 2345-0004")
    refund_directly(world, kept_part, "2000.00", key="part")

    since = clock.now() - timedelta(days=1)
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert [p.booking_id for p in uow.payments.uninvoiced(since)] == [earlier, forgotten, won, kept_part]
    with s.uows(beta.tenant_id, write=False) as uow:
        assert uow.payments.uninvoiced(since) == []  # another tenant's payments are not its business

    swept = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock)
    assert [i.booking_id for i in swept.invoiced] == [forgotten, won, kept_part]
    assert [i.total for i in swept.invoiced] == [Decimal("12000.00"), Decimal("12000.00"), Decimal("10000.00")]
    assert all(i.status is InvoiceStatus.AUTHORIZED for i in swept.invoiced)
    assert swept.corrected == [] and swept.needs_staff == []
    assert len(world.afip.vouchers[FACTURA_C_KEY]) == 3
    assert invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock) == NOTHING_SWEPT
    with s.uows(alpha.tenant_id, write=False) as uow:
        assert uow.invoices.for_booking(earlier) is None and uow.invoices.for_booking(returned) is None


def test_a_booking_staff_must_invoice_does_not_hide_the_rest(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s = world.services
    # From this amount the customer must be identified, which only staff can do.
    monkeypatch.setattr(invoicing, "IDENTIFY_FROM", Decimal("12000.00"))
    blocked = [
        paid_later(client, world, f"2026-03-03T{hour}:00:00-03:00", f"+54 9 11 2345-00{hour}") for hour in (10, 11)
    ]
    smaller = paid_later(client, world, "2026-03-03T12:00:00-03:00", "+54 9 11 2345-0012")
    refund_directly(world, smaller, "2000.00")

    # One row a page: the two left as they were come first, and the sweep reads on past them.
    swept = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock, page=1)
    assert swept.needs_staff == blocked
    assert [(i.booking_id, i.total) for i in swept.invoiced] == [(smaller, Decimal("10000.00"))]
    again = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock, page=1)
    assert again == replace(NOTHING_SWEPT, needs_staff=blocked)


def test_when_afip_stops_answering_the_pass_stops_and_the_next_run_goes_on(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s = world.services
    first = paid_later(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    second = paid_later(client, world, "2026-03-03T11:00:00-03:00", "+54 9 11 2345-0002")
    # AFIP down, WSAA included: a 503 page, no SOAP.
    monkeypatch.setattr(world.afip, "respond", lambda *_: (503, b"<html>Servicio no disponible</html>"))
    down = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock)
    assert down.afip_unreachable and down.invoiced == [] and down.retried == []
    with s.uows(alpha.tenant_id, write=False) as uow:
        drafted = uow.invoices.for_booking(first)
        assert drafted is not None and drafted.status is InvoiceStatus.DRAFT  # kept for the next run
        assert uow.invoices.for_booking(second) is None  # not asked of AFIP while it is down
    monkeypatch.undo()
    up = invoicing.sweep_vouchers(s.uows, world.owner(), s.tax_authority, s.lock)
    assert [(i.booking_id, i.status) for i in up.retried] == [(first, InvoiceStatus.AUTHORIZED)]
    assert [(i.booking_id, i.status) for i in up.invoiced] == [(second, InvoiceStatus.AUTHORIZED)]
    assert not up.afip_unreachable and len(world.afip.vouchers[FACTURA_C_KEY]) == 2


def test_the_reconciliation_goes_on_past_a_tenant_that_fails(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    s = world.services
    forgotten = paid_later(client, world, "2026-03-03T10:00:00-03:00", "+54 9 11 2345-0001")
    with s.uows(alpha.tenant_id, write=False) as uow:
        profile = uow.tax_profiles.get()
    assert profile is not None
    # Beta's key file is gone (a broken deployment): its pass fails; alpha's is done all the same.
    with s.uows(beta.tenant_id) as uow:
        uow.tax_profiles.put(replace(profile, tenant_id=beta.tenant_id, key_path=str(tmp_path / "gone.key")))
        uow.commit()
    contexts = {"beta": replace(world.owner(), tenant_id=beta.tenant_id), "alpha": world.owner()}
    summary = reconcile_tenants(s, contexts, timedelta(minutes=10))
    assert summary["beta"]["error"].startswith("FileNotFoundError")
    assert summary["alpha"]["invoices_issued_late"] == 1 and summary["alpha"]["afip"] == "ok"
    with s.uows(alpha.tenant_id, write=False) as uow:
        invoice = uow.invoices.for_booking(forgotten)
    assert invoice is not None and invoice.status is InvoiceStatus.AUTHORIZED


def test_profiles_from_before_the_migration_begin_invoicing_at_the_upgrade(database_url: str) -> None:
    database = open_database(database_url)
    try:
        upgrade(database, "0011_mercadopago_oauth")
        created = datetime(2026, 1, 5, 12, tzinfo=UTC)
        with database.engine.begin() as connection:
            insert_bare_tenant(connection, "t1", created)
            connection.execute(
                text(
                    "INSERT INTO tax_profiles (tenant_id, cuit, legal_name, address, iva_condition, "
                    "point_of_sale, environment, gross_income_id, activity_start, certificate_pem, key_path) "
                    "VALUES ('t1', '20123456786', 'Uno SRL', 'Calle 1', 'monotributo', 3, 'homologacion', "
                    "'901', '2020-05-01', 'pem', 'key')"
                )
            )
        before = datetime.now(UTC) - timedelta(seconds=5)
        upgrade(database)
        with database.engine.connect() as connection:
            profile = SqlTaxProfileRepository(connection, "t1").get()
        assert profile is not None and profile.invoicing_since is not None
        assert before <= profile.invoicing_since <= datetime.now(UTC) + timedelta(seconds=5)
    finally:
        database.dispose()
