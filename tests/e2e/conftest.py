"""Browser tests: Debian's Chromium driven by Playwright against a real uvicorn server.

They skip without /usr/bin/chromium (developer machine) and fail when BARBERPRO_REQUIRE_SERVICES=1
(CI), like the other service-backed tests. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.browser_support import CHROMIUM, CHROMIUM_ARGS, DESKTOP_VIEWPORT, PHONE_VIEWPORT, Site
from platform_fixtures import make_platform, make_tenant, sqlite_url

# live_server.py sits with the integration tests; both suites start servers the same way.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from live_server import live_server


def service_unavailable(name: str, reason: str) -> None:
    """Same rule as tests/conftest.py (a conftest cannot import another conftest by name)."""
    if os.environ.get("BARBERPRO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required in this run (BARBERPRO_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API owns the main thread's event loop while it runs,
    # so it must be gone before other tests that start their own loop.
    if not CHROMIUM.exists():
        service_unavailable("Chromium", f"{CHROMIUM} is missing (make browser installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright", "the playwright package is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    platform = make_platform(sqlite_url(tmp_path), tmp_path)
    alpha = make_tenant(platform, "alpha")
    beta = make_tenant(platform, "beta", barbers=2)
    try:
        with live_server(platform) as base:
            yield Site(platform, alpha, beta, int(base.rsplit(":", 1)[1]))
    finally:
        platform.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="es-AR", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP_VIEWPORT, locale="es-AR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
