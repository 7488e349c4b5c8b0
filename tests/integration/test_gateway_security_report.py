"""`barberpro security report` over events the gateway really recorded."""

from __future__ import annotations

import json

import pytest
from gateway_support import gateway_client
from typer.testing import CliRunner

from barberpro.bootstrap import Platform
from barberpro.entrypoints.cli.main import app
from platform_fixtures import TenantFixture


def test_report_summarises_blocks_and_detections(
    platform: Platform, alpha: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway_client(platform, rate_limit_policies={"public-ip": "2/60"}) as client:
        statuses = [client.get("/api/v1/shops").status_code for _ in range(5)]
        for i in range(5):  # five accounts from one address: credential stuffing
            client.post("/api/v1/auth/tokens", json={"email": f"x{i}@alpha.example.com", "password": "nope nope!"})
    assert statuses.count(429) == 3
    monkeypatch.setenv("BARBERPRO_DATABASE_URL", platform.settings.database_url)
    result = CliRunner().invoke(app, ["security", "report", "--since", "30d", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    by_kind = {row["kind"]: row for row in report["summary"]}
    assert by_kind["rate_limited"]["events"] == 3
    assert by_kind["rate_limited"]["tenant_id"] == alpha.tenant_id
    assert by_kind["login_failed"]["events"] == 5
    assert [d["kind"] for d in report["detections"]] == ["credential_stuffing_ip"]
    assert report["detections"][0]["detail"]["accounts"] == 5

    table = CliRunner().invoke(app, ["security", "report", "--since", "30d"])
    assert table.exit_code == 0 and "Security events, last 30d" in table.output and "Detections" in table.output
    bad = CliRunner().invoke(app, ["security", "report", "--since", "yesterday"])
    assert bad.exit_code != 0
