"""Schemathesis against /openapi.json over ASGI: no server error, no undocumented status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from barberpro.entrypoints.http.app import create_app
from platform_fixtures import make_platform, make_tenant, sqlite_url

MAX_EXAMPLES = 50  # per operation: keeps the whole run near a minute on two cores


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    platform = make_platform(sqlite_url(tmp), tmp)
    make_tenant(platform, "alpha")
    # The gateway stays on (limits included): its answers are part of the contract too.
    platform.settings = platform.settings.model_copy(update={"rate_limit_enabled": True})
    app = create_app(platform=platform)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    platform.close()


def test_api_contract(api_schema: schemathesis.BaseSchema) -> None:
    # Driven operation by operation (schemathesis' pytest plugin does not run on this pytest).
    failures: dict[str, str] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected and reported together below
            failures[operation.label] = str(exc)[:2000]
    assert operations > 20
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())
