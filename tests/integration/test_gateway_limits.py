"""Gateway over the real app: rate limits, request size, log-in brute force, booking abuse."""

from __future__ import annotations

import re
import time

import pytest
from gateway_support import availability, booking_body, gateway_client
from sqlalchemy import select

from barberpro.adapters.db import tables as t
from barberpro.bootstrap import Platform
from platform_fixtures import PASSWORD, TenantFixture

RATELIMIT = re.compile(r'^"(?P<name>[a-z-]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def test_public_reads_are_limited_with_ietf_headers(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform, rate_limit_policies={"public-ip": "5/60"}) as client:
        answers = [client.get("/api/v1/shops") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    first = answers[0].headers
    assert first["ratelimit-policy"] == '"public-ip";q=5;w=60'
    match = RATELIMIT.match(first["ratelimit"])
    assert match and match["name"] == "public-ip" and match["r"] == "4"
    refused = answers[5]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert int(refused.headers["retry-after"]) == 12  # one emission interval: 60 s / 5
    assert refused.headers["ratelimit"].startswith('"public-ip";r=0;')
    assert refused.headers["x-content-type-options"] == "nosniff"  # still inside GatewayMiddleware


def test_switch_off_is_logged_and_lets_everything_through(
    platform: Platform, alpha: TenantFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with gateway_client(platform, rate_limit_enabled=False, rate_limit_policies={"public-ip": "2/60"}) as client:
        statuses = {client.get("/api/v1/shops").status_code for _ in range(10)}
    assert statuses == {200}
    assert '"event": "rate_limiting_disabled"' in capsys.readouterr().err


def test_health_and_metrics_are_never_limited(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform, rate_limit_policies={"public-ip": "1/60"}) as client:
        assert {client.get("/healthz").status_code for _ in range(5)} == {200}


def test_oversized_bodies_are_refused(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform, max_request_bytes=1024) as client:
        big = client.post(
            "/api/v1/bookings", content=b"{" + b" " * 4096 + b"}", headers={"content-type": "application/json"}
        )
        chunked = client.post(
            "/api/v1/bookings", content=iter([b"{", b" " * 4096, b"}"]), headers={"content-type": "application/json"}
        )
    assert big.status_code == 413 and big.json()["type"].endswith("/payload-too-large")
    assert chunked.status_code == 413


def test_login_brute_force_per_address_with_progressive_delay(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        started = time.monotonic()
        statuses = []
        for i in range(7):
            body = {"email": f"nobody{i}@alpha.example.com", "password": "wrong password!"}
            statuses.append(client.post("/api/v1/auth/tokens", json=body).status_code)
        elapsed = time.monotonic() - started
        # 3 free failures, then 0.25 + 0.5 + 1 + 2 s of delay before attempts 4-7.
        assert statuses == [401] * 7
        assert elapsed >= 3.7
        ok = client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD})
        assert ok.status_code == 201
    # The security log flushed on shutdown; the host was resolved to its tenant.
    with platform.database.engine.connect() as connection:
        rows = connection.execute(
            select(t.security_events.c.kind, t.security_events.c.count, t.security_events.c.tenant_id)
        ).all()
    kinds = {r.kind for r in rows}
    assert "login_failed" in kinds and "credential_stuffing_ip" in kinds
    assert {r.tenant_id for r in rows} == {alpha.tenant_id}


def test_address_is_blocked_after_many_failures_with_a_clear_message(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform, rate_limit_policies={"login-ip": "1000/60"}) as client:
        guard = _guard(client)
        guard.security = None
        for _ in range(20):  # record failures without waiting for the delays
            client.portal.call(guard.store.rate_limit, "loginfail|testclient", _login_failures())
        blocked = client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "too many failed log-ins from this address" in blocked.json()["detail"]
    assert int(blocked.headers["retry-after"]) > 0


def test_account_lockout_stays_in_the_application(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        statuses = [
            client.post(
                "/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": "wrong password!"}
            ).status_code
            for _ in range(5)
        ]
        locked = client.post("/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": PASSWORD})
    assert statuses == [401] * 4 + [423]
    assert locked.status_code == 423 and "try again in" in locked.json()["detail"]


def test_booking_abuse_is_throttled_and_audited(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform, rate_limit_policies={"booking-ip": "1000/60"}) as client:
        created = []
        for i in range(6):
            hour = 10 + i // 2
            minute = "00" if i % 2 == 0 else "30"
            body = booking_body(alpha, f"2026-03-03T{hour}:{minute}:00-03:00", i, barber=i % 3)
            created.append(client.post("/api/v1/bookings", json=body))
        assert [r.status_code for r in created] == [201] * 6
        throttled = client.post("/api/v1/bookings", json=booking_body(alpha, "2026-03-04T10:00:00-03:00", 9))
    assert throttled.status_code == 429
    assert throttled.json()["type"].endswith("/booking-throttled")
    with platform.database.engine.connect() as connection:
        audit = connection.execute(
            select(t.audit_log.c.action, t.audit_log.c.tenant_id, t.audit_log.c.after).where(
                t.audit_log.c.action == "BookingAbuseDetected"
            )
        ).all()
    assert len(audit) == 1 and audit[0].tenant_id == alpha.tenant_id
    assert audit[0].after["reason"] == "slot_hoarding"


def test_with_the_shared_store_away_the_api_still_answers(platform: Platform, alpha: TenantFixture) -> None:
    """Redis configured but not answering: reads come from the database, bookings and log-ins go
    through (limits and threat windows let them pass), and the security report says so."""
    import socket

    from barberpro.adapters.kv.redis_store import RedisStore

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    platform.extras["kv"] = RedisStore(f"redis://127.0.0.1:{port}/0")
    with gateway_client(platform) as client:
        assert availability(client, alpha).status_code == 200
        assert availability(client, alpha).status_code == 200
        made = client.post("/api/v1/bookings", json=booking_body(alpha, "2026-03-03T10:00:00-03:00", 1))
        assert made.status_code == 201, made.text
        body = {"email": "nobody@alpha.example.com", "password": "wrong password!"}
        assert [client.post("/api/v1/auth/tokens", json=body).status_code for _ in range(3)] == [401] * 3
        assert client.get("/healthz").status_code == 200
    with platform.database.engine.connect() as connection:
        degraded = connection.execute(
            select(t.security_events.c.count).where(t.security_events.c.kind == "store_unavailable")
        ).all()
    assert sum(row.count for row in degraded) >= 6


def _guard(client):  # type: ignore[no-untyped-def]
    from barberpro.entrypoints.http.gateway_guard import GatewayGuard

    app = client.app.middleware_stack
    while not isinstance(app, GatewayGuard):
        app = app.app
    return app


def _login_failures():  # type: ignore[no-untyped-def]
    from barberpro.ops.gateway.policies import LOGIN_FAILURES

    return LOGIN_FAILURES
