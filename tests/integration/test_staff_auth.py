"""Log-in, lock-out, tokens and web sessions with CSRF protection."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from platform_fixtures import PASSWORD, TenantFixture


def test_lockout_after_repeated_failures(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    for _ in range(4):
        wrong = client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": "nope"})
        assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    locked = client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": "nope"})
    assert locked.status_code == 423 and "15 minutes" in locked.json()["detail"]
    # Even the right password is refused while locked...
    assert (
        client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD}).status_code == 423
    )
    platform.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    # ...and accepted after the lock expires.
    assert (
        client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD}).status_code == 201
    )
    unknown = client.post("/api/v1/auth/tokens", json={"email": "nadie@example.com", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["detail"] == "wrong e-mail or password"


def test_tokens_are_hashed_and_revocable(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    issued = client.post(
        "/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD, "token_name": "ci"}
    ).json()
    secret = issued["token"]
    assert secret.startswith("bp_")
    with platform.database.engine.connect() as connection:
        from sqlalchemy import text

        stored = connection.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert secret not in stored and all(len(h) == 64 for h in stored)
    headers = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 200
    assert client.get("/api/v1/staff/me", headers={"authorization": "Bearer bp_forged"}).status_code == 401
    assert client.get("/api/v1/staff/me", headers={"authorization": "Basic abc"}).status_code == 401
    assert client.delete(f"/api/v1/auth/tokens/{issued['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 401


def test_web_session_needs_csrf_for_writes(client: TestClient, alpha: TenantFixture) -> None:
    session = client.post("/api/v1/auth/session", json={"email": alpha.owner_email, "password": PASSWORD})
    assert session.status_code == 201
    cookie = session.cookies.get("bp_session")
    assert cookie and "httponly" in session.headers["set-cookie"].lower()
    csrf = session.json()["csrf_token"]
    assert client.get("/api/v1/staff/me").status_code == 200  # safe method: cookie alone is enough
    body = {"shop_id": alpha.shop_id, "name": "Nuevo"}
    assert client.post("/api/v1/staff/barbers", json=body).status_code == 403
    assert client.post("/api/v1/staff/barbers", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/api/v1/staff/barbers", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.set("bp_session", cookie)
    assert client.get("/api/v1/staff/me").status_code == 401


def test_security_headers_and_request_id(client: TestClient, alpha: TenantFixture) -> None:
    response = client.get("/api/v1/shops", headers={"X-Request-ID": "req-12345678"})
    assert response.headers["x-request-id"] == "req-12345678"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    generated = client.get("/api/v1/shops", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32


def test_health_metrics_and_openapi(client: TestClient, alpha: TenantFixture) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    client.get(f"/api/v1/shops/{alpha.shop_id}/services")
    metrics = client.get("/metrics").text
    assert (
        'barberpro_http_request_duration_seconds_bucket{le="0.005",method="GET",'
        'route="/api/v1/shops/{shop_id}/services"}' in metrics
    )
    assert "barberpro_bookings_total" in metrics
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/shops",
        "/api/v1/shops/{shop_id}/availability",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}/cancel",
        "/api/v1/staff/agenda",
    ):
        assert path in spec["paths"], path
