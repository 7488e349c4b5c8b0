"""A customer's data for an access request (Ley 25.326 Art. 14): API and staff page, roles, tenants, audit."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import inspect
from test_web_staff import log_in

from barberpro.application.bookings import cancel_booking, mark_completed
from barberpro.application.context import Context
from barberpro.application.reviews import post_review
from barberpro.application.staff_auth import create_staff_user
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from conftest import staff_headers
from platform_fixtures import PASSWORD, TenantFixture, store_paid_invoice

ANA = {"name": "Ana Pérez", "phone": "+54 9 11 4000-0001", "email": "ana@example.com"}
BETO = {"name": "Beto Gómez", "phone": "+54 9 11 4000-0002", "email": "beto@example.com"}


def _book(client: TestClient, tenant: TenantFixture, start: str, customer: dict[str, str], barber: int = 0) -> str:
    body = {"shop_id": tenant.shop_id, "service_id": tenant.service_id, "barber_id": tenant.barber_ids[barber],
            "start": start, "customer": customer}  # fmt: skip
    made = client.post("/api/v1/bookings", json=body, headers={"host": f"{tenant.slug}.example.com"})
    assert made.status_code == 201, made.text
    booking_id: str = made.json()["id"]
    return booking_id


def _customer_id(platform: Platform, tenant: TenantFixture, booking_id: str) -> str:
    with platform.uow(tenant.tenant_id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
    assert booking is not None and booking.customer_id is not None
    return booking.customer_id


def _owner(platform: Platform, tenant: TenantFixture) -> Context:
    actor = Actor(ActorKind.STAFF, tenant.owner_id, Role.OWNER)
    return Context(tenant.tenant_id, actor, "test", platform.clock.now())


def _add_barber_and_manager(platform: Platform, tenant: TenantFixture) -> None:
    """barbero@example.com (a barber) and encargada@example.com (a manager), both with PASSWORD."""
    create_staff_user(platform.uow(tenant.tenant_id), _owner(platform, tenant), platform.hasher,
                      email="barbero@example.com", name="Barbero", password=PASSWORD, role=Role.BARBER,
                      barber_id=tenant.barber_ids[0])  # fmt: skip
    create_staff_user(platform.uow(tenant.tenant_id), _owner(platform, tenant), platform.hasher,
                      email="encargada@example.com", name="Encargada", password=PASSWORD,
                      role=Role.MANAGER)  # fmt: skip


def _exports(platform: Platform, tenant: TenantFixture) -> list[str]:
    with platform.uow(tenant.tenant_id, write=False) as uow:
        return [e.entity_id for e in uow.audit.list(action="PersonalDataExported")]


def _history(client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture) -> dict[str, Any]:
    """Ana: a visit completed, paid, invoiced and reviewed, and one cancelled; Beto: one visit;
    Ana again at another tenant (same phone and e-mail: a different customer record there)."""
    done = _book(client, alpha, "2026-03-03T10:00:00-03:00", ANA)
    cancelled = _book(client, alpha, "2026-03-04T11:00:00-03:00", ANA, barber=1)
    other = _book(client, alpha, "2026-03-03T12:00:00-03:00", BETO)
    elsewhere = _book(client, beta, "2026-03-03T10:00:00-03:00", ANA)
    ana = _customer_id(platform, alpha, done)
    cancel_booking(platform.uow(alpha.tenant_id), _owner(platform, alpha), cancelled, "no puede venir")
    platform.clock.advance(timedelta(days=1, hours=2))  # type: ignore[attr-defined]
    mark_completed(platform.uow(alpha.tenant_id), _owner(platform, alpha), done)
    customer = Context(alpha.tenant_id, Actor(ActorKind.CUSTOMER, ana), "test", platform.clock.now())
    post_review(platform.uow(alpha.tenant_id), customer, booking_id=done, rating=5, text="Excelente corte")
    store_paid_invoice(platform, alpha, done, date(2026, 3, 3))
    return {"ana": ana, "done": done, "cancelled": cancelled, "other": other, "elsewhere": elsewhere,
            "beta_ana": _customer_id(platform, beta, elsewhere)}  # fmt: skip


def test_owner_downloads_only_that_customers_data_and_it_is_audited(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture
) -> None:
    h = _history(client, platform, alpha, beta)
    response = client.get(
        f"/api/v1/staff/customers/{h['ana']}/export", headers=staff_headers(client, alpha.owner_email)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="datos-cliente-{h["ana"]}.json"'
    assert "Ana Pérez" in response.content.decode("utf-8")  # UTF-8, not \u escapes
    data = json.loads(response.content)
    assert data["cliente"] == {"id": h["ana"], "nombre": "Ana Pérez", "telefono": "+5491140000001",
                               "email": "ana@example.com", "dni": None,
                               "alta": "2026-03-02T09:00:00-03:00"}  # fmt: skip
    visits = {v["id"]: v for v in data["turnos"]}
    assert set(visits) == {h["done"], h["cancelled"]}  # nothing of Beto, nothing of the other tenant
    text = response.text
    assert "Beto" not in text and h["other"] not in text and h["elsewhere"] not in text and h["beta_ana"] not in text
    done, cancelled = visits[h["done"]], visits[h["cancelled"]]
    assert done["servicio"] == "Corte" and done["barbero"] == "Barbero 1" and done["local"] == "alpha centro"
    assert done["inicio"] == "2026-03-03T10:00:00-03:00" and done["fin"] == "2026-03-03T10:30:00-03:00"
    assert done["estado"] == "completed" and done["precio"] == "12000.00" and done["cancelado"] is None
    assert done["pago"]["estado"] == "approved" and done["pago"]["pagado"] == "12000.00"
    assert done["factura"]["numero"] == "00003-00000042" and done["factura"]["cae"] == "74123456789012"
    assert done["factura"]["tipo"] == "Factura C"
    assert done["reseña"] == {"puntaje": 5, "texto": "Excelente corte", "fecha": "2026-03-03T11:00:00-03:00"}
    assert cancelled["estado"] == "cancelled" and cancelled["barbero"] == "Barbero 2"
    assert cancelled["cancelado"] == "2026-03-02T09:00:00-03:00"
    assert cancelled["pago"] is None and cancelled["factura"] is None and cancelled["reseña"] is None
    assert _exports(platform, alpha) == [h["ana"]] and _exports(platform, beta) == []
    with platform.uow(alpha.tenant_id, write=False) as uow:
        (entry,) = uow.audit.list(action="PersonalDataExported")
    assert entry.actor.endswith(alpha.owner_id) and entry.after == {"bookings": 2}


def test_roles_other_tenants_and_unknown_ids(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture
) -> None:
    h = _history(client, platform, alpha, beta)
    _add_barber_and_manager(platform, alpha)
    url = "/api/v1/staff/customers/{}/export"
    barber = client.get(url.format(h["ana"]), headers=staff_headers(client, "barbero@example.com"))
    assert barber.status_code == 403 and barber.headers["content-type"] == "application/problem+json"
    assert "Ana" not in barber.text
    owner = staff_headers(client, alpha.owner_email)
    cross = client.get(url.format(h["beta_ana"]), headers=owner)
    assert cross.status_code == 404 and cross.headers["content-type"] == "application/problem+json"
    assert cross.json()["errors"] == [{"field": "customer_id", "reason": "customer not found"}]
    unknown = client.get(url.format("no-such-customer"), headers=owner)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert client.get(url.format(h["ana"])).status_code == 401
    assert _exports(platform, alpha) == [] and _exports(platform, beta) == []
    manager = client.get(url.format(h["ana"]), headers=staff_headers(client, "encargada@example.com"))
    assert manager.status_code == 200 and _exports(platform, alpha) == [h["ana"]]


def test_staff_page_links_matched_access_requests_to_the_download(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture
) -> None:
    h = _history(client, platform, alpha, beta)
    for kind, phone, email in (("access", ANA["phone"], ANA["email"]), ("deletion", BETO["phone"], BETO["email"]),
                               ("access", "+54 9 11 4999-9999", "nadie@example.com")):  # fmt: skip
        filed = client.post("/privacidad", data={"tipo": kind, "telefono": phone, "email": email, "mensaje": ""})
        assert filed.status_code == 200
    csrf = log_in(client, alpha.owner_email)
    page = client.get("/staff/pedidos-de-datos")
    form = f'action="/staff/pedidos-de-datos/clientes/{h["ana"]}/datos"'
    # Only the access request that matched a customer gets the button (not the deletion, not the stranger).
    assert page.text.count("Descargar datos del cliente</button>") == 1 and form in page.text
    url = f"/staff/pedidos-de-datos/clientes/{h['ana']}/datos"
    # Producing the file is audited, so it takes the session's CSRF token, like every staff write.
    assert client.get(url).status_code == 405
    assert client.post(url, data={"csrf": "forged"}).status_code == 403
    assert _exports(platform, alpha) == []
    download = client.post(url, data={"csrf": csrf})
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment;")
    assert {v["id"] for v in download.json()["turnos"]} == {h["done"], h["cancelled"]}
    assert _exports(platform, alpha) == [h["ana"]]
    assert (
        client.post(f"/staff/pedidos-de-datos/clientes/{h['beta_ana']}/datos", data={"csrf": csrf}).status_code == 404
    )
    create_staff_user(platform.uow(alpha.tenant_id), _owner(platform, alpha), platform.hasher,
                      email="barbero@example.com", name="Barbero", password=PASSWORD, role=Role.BARBER,
                      barber_id=alpha.barber_ids[0])  # fmt: skip
    with TestClient(client.app, base_url="http://alpha.example.com") as other:
        barber_csrf = log_in(other, "barbero@example.com")
        refused = other.post(url, data={"csrf": barber_csrf})
        assert refused.status_code == 403 and "Ana" not in refused.text
    assert _exports(platform, alpha) == [h["ana"]]


def test_migration_adds_the_bookings_by_customer_index(platform: Platform) -> None:
    indexes = inspect(platform.database.engine).get_indexes("bookings")
    assert {"name": "ix_bookings_tenant_customer", "columns": ["tenant_id", "customer_id"]} in [
        {"name": i["name"], "columns": i["column_names"]} for i in indexes
    ]


def test_barbers_cannot_read_the_audit_trail_or_the_staff_list(
    client: TestClient, platform: Platform, alpha: TenantFixture
) -> None:
    # Both hold personal data (the trail's before/after values, staff e-mails): owners and managers only.
    _add_barber_and_manager(platform, alpha)
    barber = staff_headers(client, "barbero@example.com")
    manager = staff_headers(client, "encargada@example.com")
    for url in ("/api/v1/staff/audit", "/api/v1/staff/users"):
        refused = client.get(url, headers=barber)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        assert "barbero@example.com" not in refused.text
        assert client.get(url, headers=manager).status_code == 200
