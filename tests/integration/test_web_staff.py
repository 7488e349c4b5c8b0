"""Staff pages over HTTP: log-in with lock-out, CSRF on every form, agenda actions, admin, branding."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from platform_fixtures import PASSWORD, TenantFixture


def log_in(client: TestClient, email: str, host: str | None = None) -> str:
    headers = {"host": host} if host else {}
    done = client.post(
        "/staff/ingresar", data={"email": email, "password": PASSWORD}, headers=headers, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff/agenda", done.text
    page = client.get("/staff/agenda", headers=headers)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_login_errors_lockout_and_logout(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    assert client.get("/staff/agenda", follow_redirects=False).headers["location"].startswith("/staff/ingresar")
    for _ in range(4):
        wrong = client.post("/staff/ingresar", data={"email": alpha.owner_email, "password": "nope"})
        assert wrong.status_code == 401 and "E-mail o contraseña incorrectos" in wrong.text
    locked = client.post("/staff/ingresar", data={"email": alpha.owner_email, "password": "nope"})
    assert locked.status_code == 423 and "bloqueada" in locked.text and "15 minutos" in locked.text
    still = client.post("/staff/ingresar", data={"email": alpha.owner_email, "password": PASSWORD})
    assert still.status_code == 423
    platform.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    csrf = log_in(client, alpha.owner_email)
    cookie = client.cookies.get("bp_session")
    assert client.post("/staff/salir", data={"csrf": "forged"}).status_code == 403
    out = client.post("/staff/salir", data={"csrf": csrf}, follow_redirects=False)
    assert out.headers["location"] == "/staff/ingresar?salio=1"
    client.cookies.set("bp_session", cookie or "")
    assert client.get("/staff/agenda", follow_redirects=False).status_code == 303  # revoked server-side
    # Open redirects are refused: only paths on this site.
    evil = client.post(
        "/staff/ingresar",
        data={"email": alpha.owner_email, "password": PASSWORD, "siguiente": "//evil.example/x"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/staff/agenda"


def test_agenda_walk_in_block_and_mark_completed(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    csrf = log_in(client, alpha.owner_email)
    base = {"csrf": csrf, "local": alpha.shop_id, "fecha": "2026-03-02"}
    walk_in = {
        **base,
        "barbero": alpha.barber_ids[0],
        "servicio": alpha.service_id,
        "hora": "09:10",
        "nombre": "Carlos Gómez",
        "telefono": "+54 9 11 4444-5555",
        "email": "carlos@example.com",
    }
    assert client.post("/staff/agenda/sin-turno", data={**walk_in, "csrf": "x"}).status_code == 403
    added = client.post("/staff/agenda/sin-turno", data=walk_in, follow_redirects=True)
    assert "Cliente sin turno agregado" in added.text and "Carlos Gómez" in added.text and "09:10–09:40" in added.text
    clash = client.post("/staff/agenda/sin-turno", data={**walk_in, "nombre": "Otro"})
    assert clash.status_code == 409 and "Ese horario está ocupado" in clash.text
    blocked = client.post(
        "/staff/agenda/bloqueos",
        data={**base, "barbero": alpha.barber_ids[1], "desde": "15:00", "hasta": "16:00", "nota": "Trámite"},
        follow_redirects=True,
    )
    assert "Horario bloqueado" in blocked.text and "Trámite" in blocked.text
    booking_id = re.search(r'data-booking="([^"]+)"', added.text).group(1)  # type: ignore[union-attr]
    early = client.post(f"/staff/agenda/turnos/{booking_id}/completar", data=base)
    assert early.status_code == 200 or "Completado" not in early.text  # not started: no button yet
    platform.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
    page = client.get("/staff/agenda", params={"local": alpha.shop_id, "fecha": "2026-03-02"})
    assert f"/staff/agenda/turnos/{booking_id}/completar" in page.text
    assert "fecha=2026-03-03" in page.text and "Día siguiente" in page.text
    done = client.post(f"/staff/agenda/turnos/{booking_id}/completar", data=base, follow_redirects=True)
    assert "Turno marcado como completado" in done.text and "status-completed" in done.text


def test_owner_changes_theme_and_public_page_follows(client: TestClient, alpha: TenantFixture) -> None:
    csrf = log_in(client, alpha.owner_email)
    theme = {
        "csrf": csrf,
        "nombre": "Alpha Barber Club",
        "primario": "#5a1e6e",
        "acento": "#d4a017",
        "fondo": "#fffaf0",
        "texto": "#111111",
        "logo": "",
    }
    unreadable = client.post("/staff/admin/marca", data={**theme, "texto": "#dddddd"})
    assert unreadable.status_code == 422 and "4,5:1" in unreadable.text
    saved = client.post("/staff/admin/marca", data=theme, follow_redirects=False)
    assert saved.status_code == 303
    public = client.get("/")
    assert "Alpha Barber Club" in public.text and "--bp-primary:#5a1e6e" in public.text
    assert "--bp-bg:#fffaf0" in public.text


def test_admin_catalogue_forms(client: TestClient, alpha: TenantFixture) -> None:
    csrf = log_in(client, alpha.owner_email)
    base = {"csrf": csrf, "local": alpha.shop_id}
    assert client.post("/staff/admin/barberos", data={**base, "nombre": "Nuevo Barbero"}).status_code == 200
    service = client.post(
        "/staff/admin/servicios",
        data={**base, "nombre": "Perfilado", "duracion": "15", "precio": "4.500,50", "pausa": "5"},
        follow_redirects=True,
    )
    assert "Nuevo Barbero" in service.text and 'value="Perfilado"' in service.text
    assert 'value="4.500,50"' in service.text
    hours = {**base, "desde_0": "10:00", "hasta_0": "19:00", "pausa_desde_0": "14:00", "pausa_hasta_0": "15:00"}
    saved = client.post(f"/staff/admin/barberos/{alpha.barber_ids[0]}/horario", data=hours, follow_redirects=False)
    assert saved.status_code == 303
    slots = client.get(
        "/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": alpha.barber_ids[0]}
    )
    assert "T10:00:00-03:00" in slots.text and "T14:00:00-03:00" not in slots.text
    holiday = client.post(
        "/staff/admin/excepciones",
        data={**base, "dia": "2026-03-03", "tipo": "holiday", "nota": "Carnaval"},
        follow_redirects=True,
    )
    assert "Carnaval" in holiday.text
    user = client.post(
        "/staff/admin/usuarios",
        data={
            **base,
            "nombre": "Encargada",
            "email": "enc@alpha.example.com",
            "password": "una-clave-larga",
            "rol": "manager",
        },
        follow_redirects=True,
    )
    assert "enc@alpha.example.com" in user.text and "Encargado/a" in user.text
    assert client.post("/staff/admin/barberos", data={**base, "csrf": "x", "nombre": "Z"}).status_code == 403


def test_barber_role_and_foreign_sessions_are_refused(
    client: TestClient, alpha: TenantFixture, beta: TenantFixture
) -> None:
    csrf = log_in(client, alpha.owner_email)
    client.post(
        "/staff/admin/usuarios",
        data={
            "csrf": csrf,
            "nombre": "Barbero",
            "email": "b@alpha.example.com",
            "password": PASSWORD,
            "rol": "barber",
            "barbero": alpha.barber_ids[0],
        },
    )
    # Alpha's session cookie on beta's address is no session at all.
    assert client.get("/staff/agenda", headers={"host": "beta.example.com"}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    log_in(client, "b@alpha.example.com")
    assert client.get("/staff/admin").status_code == 403
    agenda = client.get("/staff/agenda", params={"local": alpha.shop_id, "fecha": "2026-03-02"})
    assert agenda.status_code == 200 and agenda.text.count('class="column"') == 1
