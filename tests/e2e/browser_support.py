"""Helpers for the browser tests: the site under test, viewports, the accessibility audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from barberpro.bootstrap import Platform
from platform_fixtures import TenantFixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Tenants are told apart by Host: every *.example.com name reaches the local test server.
    "--host-resolver-rules=MAP *.example.com 127.0.0.1",
]
A11Y_CHECK = (Path(__file__).parent / "a11y_check.js").read_text()
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Site:
    platform: Platform
    alpha: TenantFixture
    beta: TenantFixture
    port: int

    def url(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.example.com:{self.port}{path}"


def accessibility_problems(page: Any) -> list[str]:
    problems: list[str] = page.evaluate(A11Y_CHECK)
    return problems


def book_by_api(site: Site, start: str, barber_id: str | None = None, phone: str = "+54 9 11 4444-5555") -> Any:
    """Another customer books through the JSON API (e.g. faster than the one in the browser)."""
    response = httpx.post(
        f"http://127.0.0.1:{site.port}/api/v1/bookings",
        json={
            "shop_id": site.alpha.shop_id,
            "service_id": site.alpha.service_id,
            "barber_id": barber_id,
            "start": start,
            "customer": {"name": "Otro Cliente", "phone": phone, "email": "otro@example.com"},
        },
        headers={"host": "alpha.example.com"},
    )
    assert response.status_code == 201, response.text
    return response.json()
