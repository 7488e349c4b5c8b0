"""Integration fixtures: the same tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from barberpro.entrypoints.http.app import create_app
from platform_fixtures import TenantFixture, make_platform, make_tenant, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    built = make_platform(database_url, tmp_path)
    yield built
    built.close()


@pytest.fixture
def alpha(platform: Platform) -> TenantFixture:
    return make_tenant(platform, "alpha")


@pytest.fixture
def beta(platform: Platform) -> TenantFixture:
    return make_tenant(platform, "beta", barbers=2)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(
        create_app(platform=platform), base_url="http://alpha.example.com", raise_server_exceptions=False
    ) as test_client:
        yield test_client


def staff_headers(client: TestClient, email: str, host: str | None = None) -> dict[str, str]:
    from platform_fixtures import PASSWORD

    headers = {"host": host} if host else {}
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD}, headers=headers)
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}
