"""Helpers for the gateway tests: an app with the gateway's limits switched on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from barberpro.entrypoints.http.app import create_app
from platform_fixtures import TenantFixture


@contextmanager
def live_gateway(platform: Platform, **overrides: Any) -> Iterator[tuple[str, FastAPI]]:
    """The app (gateway settings overridden) behind a real uvicorn in a thread: real sockets,
    real HTTP/1.1 keep-alive. Yields the base URL and the app; shuts down (lifespan included)."""
    from live_server import serve_app

    platform.settings = platform.settings.model_copy(update=overrides)
    app = create_app(platform=platform)
    with serve_app(app) as base:
        yield base, app


@contextmanager
def gateway_client(platform: Platform, **overrides: Any) -> Iterator[TestClient]:
    platform.settings = platform.settings.model_copy(update={"rate_limit_enabled": True, **overrides})
    app = create_app(platform=platform)
    with TestClient(app, base_url="http://alpha.example.com", raise_server_exceptions=False) as client:
        yield client


def booking_body(t: TenantFixture, start: str, index: int, barber: int = 0) -> dict[str, Any]:
    return {
        "shop_id": t.shop_id,
        "service_id": t.service_id,
        "barber_id": t.barber_ids[barber],
        "start": start,
        "customer": {
            "name": f"Cliente {index}",
            "phone": f"+54 9 11 4{index:03d}-{index:04d}",
            "email": f"c{index}@example.com",
        },
    }


def availability(client: TestClient, t: TenantFixture, day: str = "2026-03-03", **headers: str) -> Any:
    response = client.get(
        f"/api/v1/shops/{t.shop_id}/availability",
        params={"service_id": t.service_id, "date": day, "barber_id": t.barber_ids[0]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response


def redis_url() -> str:
    """BARBERPRO_TEST_REDIS_URL, reachable; skips (or fails in CI) otherwise."""
    import os

    import pytest

    def service_unavailable(name: str, reason: str) -> None:  # the pattern of tests/conftest.py
        if os.environ.get("BARBERPRO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} is required in this run (BARBERPRO_REQUIRE_SERVICES=1) but {reason}")
        pytest.skip(f"{name} not available: {reason}")

    url = os.environ.get("BARBERPRO_TEST_REDIS_URL")
    if not url:
        service_unavailable("Redis", "BARBERPRO_TEST_REDIS_URL is not set")
    assert url is not None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure means "not reachable"
        service_unavailable("Redis", f"cannot connect to {url}: {exc}")
    return url
