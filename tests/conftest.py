"""Shared fixtures. Real databases: SQLite always; PostgreSQL when BARBERPRO_TEST_POSTGRES_URL is set.

CI sets BARBERPRO_REQUIRE_SERVICES=1 so that a missing service fails the run instead of
skipping its tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

REQUIRE_SERVICES = os.environ.get("BARBERPRO_REQUIRE_SERVICES") == "1"


def service_unavailable(name: str, reason: str) -> None:
    """Skip (developer machine) or fail (CI) when a real service is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required in this run (BARBERPRO_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("BARBERPRO_TEST_POSTGRES_URL")
    if not url:
        service_unavailable("PostgreSQL", "BARBERPRO_TEST_POSTGRES_URL is not set")
    assert url is not None
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            pass
    except Exception as exc:
        service_unavailable("PostgreSQL", f"cannot connect to {url}: {exc}")
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"barberpro_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
