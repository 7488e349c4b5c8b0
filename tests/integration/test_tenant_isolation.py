"""Tenant isolation: every attempt to cross from one tenant into another gets 404."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from barberpro.bootstrap import Platform
from conftest import staff_headers
from platform_fixtures import TenantFixture

ALPHA = {"host": "alpha.example.com"}
BETA = {"host": "beta.example.com"}


def _book(client: TestClient, t: TenantFixture, host: dict[str, str]) -> dict:
    slots = client.get(
        f"/api/v1/shops/{t.shop_id}/availability",
        params={"service_id": t.service_id, "date": "2026-03-03"},
        headers=host,
    ).json()["slots"]
    response = client.post(
        "/api/v1/bookings",
        headers=host,
        json={
            "shop_id": t.shop_id,
            "service_id": t.service_id,
            "barber_id": None,
            "start": slots[0]["start"],
            "customer": {"name": "Cliente", "phone": "+54 9 351 555-1234", "email": "c@example.com"},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_host_decides_the_tenant(client: TestClient, alpha: TenantFixture, beta: TenantFixture) -> None:
    assert [s["id"] for s in client.get("/api/v1/shops", headers=ALPHA).json()["items"]] == [alpha.shop_id]
    assert [s["id"] for s in client.get("/api/v1/shops", headers=BETA).json()["items"]] == [beta.shop_id]
    # The slug under the base domain works too.
    slug_host = {"host": "beta.barberpro.localhost:8000"}
    assert [s["id"] for s in client.get("/api/v1/shops", headers=slug_host).json()["items"]] == [beta.shop_id]
    assert client.get("/api/v1/tenant", headers=BETA).json()["slug"] == "beta"
    # Another tenant's shop, services, barbers and availability through this host: 404.
    for path in (
        f"/api/v1/shops/{alpha.shop_id}",
        f"/api/v1/shops/{alpha.shop_id}/services",
        f"/api/v1/shops/{alpha.shop_id}/barbers",
    ):
        assert client.get(path, headers=BETA).status_code == 404, path
    availability = client.get(
        f"/api/v1/shops/{alpha.shop_id}/availability",
        headers=BETA,
        params={"service_id": alpha.service_id, "date": "2026-03-03"},
    )
    assert availability.status_code == 404
    assert client.get("/api/v1/shops", headers={"host": "unknown.barberpro.localhost"}).status_code == 404


def test_cannot_book_with_another_tenants_ids(client: TestClient, alpha: TenantFixture, beta: TenantFixture) -> None:
    response = client.post(
        "/api/v1/bookings",
        headers=BETA,
        json={
            "shop_id": alpha.shop_id,
            "service_id": alpha.service_id,
            "barber_id": alpha.barber_ids[0],
            "start": "2026-03-03T10:00:00-03:00",
            "customer": {"name": "Intruso", "phone": "+54 9 11 5555-0000", "email": "x@example.com"},
        },
    )
    assert response.status_code == 404
    mixed = client.post(
        "/api/v1/bookings",
        headers=BETA,
        json={
            "shop_id": beta.shop_id,
            "service_id": beta.service_id,
            "barber_id": alpha.barber_ids[0],
            "start": "2026-03-03T10:00:00-03:00",
            "customer": {"name": "Intruso", "phone": "+54 9 11 5555-0000", "email": "x@example.com"},
        },
    )
    assert mixed.status_code == 404


def test_staff_cannot_reach_another_tenants_data(client: TestClient, alpha: TenantFixture, beta: TenantFixture) -> None:
    booking = _book(client, alpha, ALPHA)
    alpha_staff = staff_headers(client, alpha.owner_email, "alpha.example.com")
    customer_id = client.get(f"/api/v1/bookings/{booking['id']}", headers={**ALPHA, **alpha_staff}).json()["customer"][
        "id"
    ]
    beta_staff = staff_headers(client, beta.owner_email, "beta.example.com")
    # Beta's token, on beta's host: alpha's ids do not exist.
    as_beta = {**BETA, **beta_staff}
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=as_beta).status_code == 404
    assert client.get(f"/api/v1/staff/customers/{customer_id}", headers=as_beta).status_code == 404
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=as_beta).status_code == 404
    assert (
        client.post(
            f"/api/v1/bookings/{booking['id']}/reschedule", headers=as_beta, json={"start": "2026-03-04T10:00:00-03:00"}
        ).status_code
        == 404
    )
    assert (
        client.patch(f"/api/v1/staff/shops/{alpha.shop_id}", headers=as_beta, json={"name": "Hackeado"}).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/v1/staff/barbers/{alpha.barber_ids[0]}", headers=as_beta, json={"active": False}
        ).status_code
        == 404
    )
    assert (
        client.put(f"/api/v1/staff/barbers/{alpha.barber_ids[0]}/hours", headers=as_beta, json={"days": []}).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/staff/agenda", headers=as_beta, params={"shop_id": alpha.shop_id, "date": "2026-03-03"}
        ).status_code
        == 404
    )
    # Beta's token presented on alpha's host is refused outright.
    assert client.get("/api/v1/staff/me", headers={**ALPHA, **beta_staff}).status_code == 401
    # A manage token of alpha's booking is useless on beta's host.
    assert (
        client.get(
            f"/api/v1/bookings/{booking['id']}", headers={**BETA, "X-Manage-Token": booking["manage_token"]}
        ).status_code
        == 404
    )
    # Nothing changed for alpha.
    still = client.get(f"/api/v1/bookings/{booking['id']}", headers={**ALPHA, **alpha_staff}).json()
    assert still["status"] == "confirmed"
    assert client.get(f"/api/v1/shops/{alpha.shop_id}", headers=ALPHA).json()["name"] == "alpha centro"


@pytest.mark.postgres
def test_row_level_security_is_the_second_wall(platform: Platform, alpha: TenantFixture, beta: TenantFixture) -> None:
    if platform.database.dialect != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    assert platform.database.rls_role == "barberpro_app"
    with platform.uow(beta.tenant_id, write=False) as uow:
        connection = uow.shops._c  # type: ignore[attr-defined]
        # A query that forgot its tenant filter still sees only beta's rows.
        shops = connection.execute(text("SELECT id FROM shops")).scalars().all()
        assert shops == [beta.shop_id]
        assert connection.execute(text("SELECT count(*) FROM barbers")).scalar() == 2
        tenants = connection.execute(text("SELECT slug FROM tenants")).scalars().all()
        assert tenants == ["beta"]
    with platform.uow(beta.tenant_id) as uow:
        connection = uow.shops._c  # type: ignore[attr-defined]
        updated = connection.execute(text("UPDATE shops SET name = 'x' WHERE id = :id"), {"id": alpha.shop_id})
        assert updated.rowcount == 0
        with pytest.raises(Exception, match="row-level security"):
            connection.execute(
                text(
                    "INSERT INTO barbers (id, tenant_id, shop_id, name, bio, active) "
                    "VALUES ('b', :t, :s, 'x', '', true)"
                ),
                {"t": alpha.tenant_id, "s": alpha.shop_id},
            )


def test_role_limits(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    owner = staff_headers(client, alpha.owner_email)
    created = client.post(
        "/api/v1/staff/users",
        headers=owner,
        json={
            "email": "barbero@alpha.example.com",
            "name": "Barbero Uno",
            "password": "0123456789ab",
            "role": "barber",
            "barber_id": alpha.barber_ids[0],
        },
    )
    assert created.status_code == 201, created.text
    assert "password_hash" not in created.json()
    barber = client.post(
        "/api/v1/auth/tokens", json={"email": "barbero@alpha.example.com", "password": "0123456789ab"}
    ).json()
    as_barber = {"authorization": f"Bearer {barber['token']}"}
    assert (
        client.post(
            "/api/v1/staff/services",
            headers=as_barber,
            json={"shop_id": alpha.shop_id, "name": "X", "duration_minutes": 20, "price": "1"},
        ).status_code
        == 403
    )
    agenda = client.get(
        "/api/v1/staff/agenda", headers=as_barber, params={"shop_id": alpha.shop_id, "date": "2026-03-03"}
    ).json()
    assert [c["barber"]["id"] for c in agenda["barbers"]] == [alpha.barber_ids[0]]
    assert client.delete(f"/api/v1/auth/tokens/{barber['id']}", headers=as_barber).status_code == 204
    assert client.get("/api/v1/staff/me", headers=as_barber).status_code == 401
