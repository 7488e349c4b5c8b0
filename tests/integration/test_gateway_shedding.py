"""Load shedding over a real server: refusals are cheap, complete and prioritised."""

from __future__ import annotations

import socket
import time

import httpx
from gateway_support import booking_body, live_gateway
from sqlalchemy import select

from barberpro.adapters.db import tables as t
from barberpro.bootstrap import Platform
from barberpro.ops.gateway.concurrency import GradientLimiter
from platform_fixtures import PASSWORD, TenantFixture

HOST = "alpha.example.com"


def _overloaded(limiter: GradientLimiter) -> None:
    """Pin the limit at 10 and pretend 9 requests are in flight: browsing (7 slots) and staff
    (8.5) are over their share, bookings (10 + 4 reserve) still fit."""
    limiter.settings.min_limit = limiter.settings.max_limit = limiter.limit = 10
    limiter.in_flight = 9


def _exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request, read one complete answer (Content-Length framed) off the socket."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before an answer"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), headers, body[:length]


def test_browsing_is_shed_bookings_pass_and_every_refusal_is_a_complete_answer(
    platform: Platform, alpha: TenantFixture
) -> None:
    with live_gateway(platform, load_shedding_enabled=True) as (base, app):
        limiter = app.state.concurrency_limiter
        with httpx.Client(base_url=base, headers={"host": HOST}) as client:
            assert client.get("/api/v1/shops").status_code == 200  # not overloaded yet
            # The server answers before it hands the slot back: wait for that, or the late release
            # lands after the pretend load below (9 in flight would read 8 at the end).
            deadline = time.monotonic() + 5
            while limiter.in_flight and time.monotonic() < deadline:
                time.sleep(0.01)
            assert limiter.in_flight == 0
            _overloaded(limiter)
            shed = client.get("/api/v1/shops")
            assert shed.status_code == 503
            assert shed.headers["retry-after"] == "1"
            assert shed.headers["content-type"] == "application/problem+json"
            assert shed.headers["x-content-type-options"] == "nosniff"  # security headers kept
            assert shed.json()["type"].endswith("/overloaded")
            booked = client.post("/api/v1/bookings", json=booking_body(alpha, "2026-03-03T10:00:00-03:00", 1))
            assert booked.status_code == 201, booked.text  # the last to be shed
            assert client.get("/healthz").status_code == 200  # never shed
            assert limiter.in_flight == 9  # every admitted request gave its slot back

        # A shed request with a body it never read: complete answer, and the same connection
        # carries the next request.
        port = int(base.rsplit(":", 1)[1])
        body = b'{"email": "%s", "password": "%s"}' % (alpha.owner_email.encode(), PASSWORD.encode())
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            status, headers, answer = _exchange(
                sock,
                b"POST /api/v1/auth/tokens HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
            )
            assert status == 503 and b"overloaded" in answer
            assert headers.get("connection", "keep-alive") != "close"
            status, _, answer = _exchange(sock, b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
            assert status == 200 and b"ok" in answer

        metrics = httpx.get(f"{base}/metrics").text
        shed_total = next(line for line in metrics.splitlines() if line.startswith("barberpro_gateway_shed_total "))
        assert float(shed_total.split()[1]) == 2
        assert "barberpro_gateway_concurrency_limit 10.0" in metrics
    # Refusals reach the security report (aggregated, resolved to the tenant) at shutdown.
    with platform.database.engine.connect() as connection:
        rows = connection.execute(
            select(
                t.security_events.c.kind,
                t.security_events.c.subject,
                t.security_events.c.count,
                t.security_events.c.tenant_id,
            ).where(t.security_events.c.kind == "shed")
        ).all()
    assert sorted((r.subject, r.count, r.tenant_id) for r in rows) == [
        ("login", 1, alpha.tenant_id),
        ("public", 1, alpha.tenant_id),
    ]


def test_switched_off_nothing_is_shed(platform: Platform, alpha: TenantFixture) -> None:
    with live_gateway(platform, load_shedding_enabled=False) as (base, app):
        assert not hasattr(app.state, "load_shedder")
        _overloaded(app.state.concurrency_limiter)
        with httpx.Client(base_url=base, headers={"host": HOST}) as client:
            assert {client.get("/api/v1/shops").status_code for _ in range(5)} == {200}
