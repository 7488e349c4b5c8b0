"""Staff screen for personal-data requests: who may see it, due dates, answering once, other shops' ids."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from test_web_staff import log_in

from barberpro.application.context import Context
from barberpro.application.staff_auth import create_staff_user
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from platform_fixtures import PASSWORD, TenantFixture

PAGE = "/staff/pedidos-de-datos"


def _file(client: TestClient, kind: str, phone: str, email: str, message: str = "", host: str | None = None) -> None:
    headers = {"host": host} if host else {}
    sent = client.post("/privacidad", data={"tipo": kind, "telefono": phone, "email": email, "mensaje": message},
                       headers=headers)  # fmt: skip
    assert sent.status_code == 200, sent.text


def _request_ids(platform: Platform, tenant_id: str) -> list[str]:
    with platform.uow(tenant_id, write=False) as uow:
        return [e.entity_id for e in uow.audit.list(action="PersonalDataRequested")]


def _answers(platform: Platform, tenant_id: str) -> int:
    with platform.uow(tenant_id, write=False) as uow:
        return len(uow.audit.list(action="PersonalDataRequestAnswered"))


def test_owner_lists_requests_newest_first_with_due_dates_and_overdue(
    client: TestClient, alpha: TenantFixture, platform: Platform
) -> None:
    # Monday 2 March 2026, 09:00: five working days run to Monday 9 March, 23:59.
    _file(client, "deletion", "+54 9 11 4321-8765", "viejo@example.com", "Borren mis datos")
    platform.clock.advance(timedelta(days=6))  # type: ignore[attr-defined]
    _file(client, "access", "+54 9 11 5555-0000", "nuevo@example.com", "Quiero ver mis datos")
    log_in(client, alpha.owner_email)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "10 días corridos" in text and "5 días hábiles" in text
    assert text.index("nuevo@example.com") < text.index("viejo@example.com")  # newest first
    assert "Borren mis datos" in text and "Quiero ver mis datos" in text
    # Six calendar days on (a Sunday) the deletion term still runs: a weekend is not working days.
    assert "09/03/2026 23:59" in text and "18/03/2026 09:00" in text
    assert text.count("request-pending") == 2 and "request-overdue" not in text
    # Tuesday: the deletion request is overdue; the access one (10 calendar days) is pending.
    platform.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    log_in(client, alpha.owner_email)  # the session of a week ago has run out
    text = client.get(PAGE).text
    assert "request-overdue" in text and "Vencida" in text and "Pendiente" in text
    assert text.count("request-overdue") == 1 and text.count("request-pending") == 1


def test_owner_marks_answered_once_with_csrf(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    _file(client, "access", "+54 9 11 5555-0000", "nuevo@example.com")
    (request_id,) = _request_ids(platform, alpha.tenant_id)
    csrf = log_in(client, alpha.owner_email)
    url = f"{PAGE}/{request_id}/respondida"
    assert client.post(url, data={"csrf": "forged", "nota": "x"}).status_code == 403
    assert _answers(platform, alpha.tenant_id) == 0
    done = client.post(url, data={"csrf": csrf, "nota": "Enviado por e-mail"}, follow_redirects=True)
    assert "Pedido marcado como respondido" in done.text and "Respondida" in done.text
    assert "Enviado por e-mail" in done.text
    again = client.post(url, data={"csrf": csrf, "nota": "otra vez"})
    assert again.status_code == 409 and "ya estaba marcado como respondido" in again.text
    assert _answers(platform, alpha.tenant_id) == 1
    with platform.uow(alpha.tenant_id, write=False) as uow:
        (entry,) = uow.audit.list(action="PersonalDataRequestAnswered")
    assert entry.entity_id == request_id and entry.after is not None and entry.after["note"] == "Enviado por e-mail"


def test_another_shops_request_is_not_found_and_unchanged(
    client: TestClient, alpha: TenantFixture, beta: TenantFixture, platform: Platform
) -> None:
    _file(client, "access", "+54 9 11 5555-0000", "beta@example.com", host="beta.example.com")
    (beta_request,) = _request_ids(platform, beta.tenant_id)
    csrf = log_in(client, alpha.owner_email)
    assert "beta@example.com" not in client.get(PAGE).text
    cross = client.post(f"{PAGE}/{beta_request}/respondida", data={"csrf": csrf, "nota": "x"})
    assert cross.status_code == 404
    assert client.post(f"{PAGE}/no-such-id/respondida", data={"csrf": csrf}).status_code == 404
    assert _answers(platform, beta.tenant_id) == 0 and _answers(platform, alpha.tenant_id) == 0


def test_barber_cannot_see_or_answer_requests(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    _file(client, "access", "+54 9 11 5555-0000", "nuevo@example.com")
    (request_id,) = _request_ids(platform, alpha.tenant_id)
    owner = Context(alpha.tenant_id, Actor(ActorKind.STAFF, alpha.owner_id, Role.OWNER), "test", platform.clock.now())
    create_staff_user(platform.uow(alpha.tenant_id), owner, platform.hasher, email="barbero@example.com",
                      name="Barbero", password=PASSWORD, role=Role.BARBER, barber_id=alpha.barber_ids[0])  # fmt: skip
    csrf = log_in(client, "barbero@example.com")
    agenda = client.get("/staff/agenda")
    assert 'href="/staff/pedidos-de-datos"' not in agenda.text
    denied = client.get(PAGE)
    assert denied.status_code == 403 and "nuevo@example.com" not in denied.text
    refused = client.post(f"{PAGE}/{request_id}/respondida", data={"csrf": csrf, "nota": "x"})
    assert refused.status_code == 403 and _answers(platform, alpha.tenant_id) == 0
    assert re.search(r"nuevo@example\.com", refused.text) is None


def test_a_long_history_keeps_the_newest_requests_on_the_page(
    client: TestClient, alpha: TenantFixture, platform: Platform, monkeypatch: object
) -> None:
    import barberpro.application.data_requests as data_requests

    monkeypatch.setattr(data_requests, "_LISTED", 2)  # type: ignore[attr-defined]
    for n in range(3):
        _file(client, "access", f"+54 9 11 5555-000{n}", f"cliente{n}@example.com")
        platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    log_in(client, alpha.owner_email)
    text = client.get(PAGE).text
    assert "cliente2@example.com" in text and "cliente1@example.com" in text
    assert "cliente0@example.com" not in text  # the oldest is the one left off, never the newest
