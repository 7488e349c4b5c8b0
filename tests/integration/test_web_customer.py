"""Customer pages over HTTP (plain forms, no JavaScript), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from platform_fixtures import TenantFixture

PHONE = "+54 9 11 2345-6789"


def slot_values(html: str) -> list[str]:
    return re.findall(r'name="hora" value="([^"]+)"', html)


def details_form(client: TestClient, shop_id: str, service_id: str, barber: str, hora: str) -> dict[str, str]:
    page = client.get("/reservar", params={"local": shop_id, "servicio": service_id, "barbero": barber, "hora": hora})
    assert page.status_code == 200 and "Tus datos" in page.text
    assert "Aviso de privacidad (Ley 25.326)" in page.text and 'href="/privacidad"' in page.text
    key = re.search(r'name="clave" value="([^"]+)"', page.text)
    assert key is not None
    return {
        "local": shop_id,
        "servicio": service_id,
        "barbero": barber,
        "hora": hora,
        "nombre": "Ana Pérez",
        "telefono": PHONE,
        "email": "ana@example.com",
        "clave": key.group(1),
        "consentimiento": "si",
    }


def book(client: TestClient, alpha: TenantFixture, barber: str = "cualquiera", after: str = "10:00") -> str:
    slots = client.get("/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": barber})
    start = next(s for s in slot_values(slots.text) if s[11:16] >= after)
    form = details_form(client, alpha.shop_id, alpha.service_id, barber, start)
    done = client.post("/reservar", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["location"]


def test_shop_page_shows_brand_services_and_prices(client: TestClient, alpha: TenantFixture) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Barbería Alpha" in page.text and "alpha centro" in page.text
    assert "$ 12.000,00" in page.text and "$ 30.000,50" in page.text and "30 min" in page.text
    assert "--bp-primary:#1f3a5f" in page.text
    assert "<script>" not in page.text  # the CSP forbids inline scripts
    css = client.get(re.search(r'href="(/assets/app.css\?v=\w+)"', page.text).group(1))  # type: ignore[union-attr]
    assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
    assert client.get("/assets/..%2Fsession.py").status_code == 404


def test_booking_in_four_steps_then_manage_link_and_calendar(client: TestClient, alpha: TenantFixture) -> None:
    step1 = client.get("/reservar", params={"local": alpha.shop_id})
    assert "Elegí el servicio" in step1.text and alpha.service_id in step1.text
    step2 = client.get("/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id})
    assert "Cualquiera" in step2.text and "Barbero 1" in step2.text
    step3 = client.get(
        "/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": "cualquiera"}
    )
    times = slot_values(step3.text)
    # T0 is 09:00 in Buenos Aires and the shop wants 60 minutes' notice.
    assert times[0] == "2026-03-02T10:00:00-03:00" and ">10:00<" in step3.text
    form = details_form(client, alpha.shop_id, alpha.service_id, "cualquiera", times[0])
    done = client.post("/reservar", data=form, follow_redirects=False)
    assert done.status_code == 303 and "/reservas/" in done.headers["location"]
    again = client.post("/reservar", data=form, follow_redirects=False)  # a double submit
    assert again.headers["location"] == done.headers["location"]
    confirmation = client.get(done.headers["location"])
    assert "Tu turno está confirmado" in confirmation.text and "lunes 2 de marzo, 10:00" in confirmation.text
    ics_link = re.search(r'href="(/reservas/[^"]+/turno\.ics\?token=[^"]+)"', confirmation.text)
    assert ics_link is not None
    ics = client.get(ics_link.group(1).replace("&amp;", "&"))
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART:20260302T130000Z" in ics.text and "Corte en alpha centro" in ics.text


def test_taken_slot_gives_a_friendly_page_with_fresh_times(client: TestClient, alpha: TenantFixture) -> None:
    barber = alpha.barber_ids[0]
    slots = client.get("/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": barber})
    first = slot_values(slots.text)[0]
    mine = details_form(client, alpha.shop_id, alpha.service_id, barber, first)
    theirs = details_form(client, alpha.shop_id, alpha.service_id, barber, first)
    assert client.post("/reservar", data=theirs, follow_redirects=False).status_code == 303
    raced = client.post("/reservar", data={**mine, "telefono": "+54 9 11 5555-4444"}, follow_redirects=False)
    assert raced.status_code == 409 and raced.headers["content-type"].startswith("text/html")
    assert "Ese horario se acaba de ocupar" in raced.text
    fresh = slot_values(raced.text)
    assert fresh and first not in fresh
    assert 'name="telefono" value="+54 9 11 5555-4444"' in raced.text  # typed data kept


def test_invalid_phone_and_missing_consent_keep_the_form(client: TestClient, alpha: TenantFixture) -> None:
    slots = client.get(
        "/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": "cualquiera"}
    )
    form = details_form(client, alpha.shop_id, alpha.service_id, "cualquiera", slot_values(slots.text)[0])
    bad = client.post("/reservar", data={**form, "telefono": "123"})
    assert bad.status_code == 422 and "Revisá el teléfono" in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="Ana Pérez"' in bad.text
    no_consent = {k: v for k, v in form.items() if k != "consentimiento"}
    refused = client.post("/reservar", data=no_consent)
    assert refused.status_code == 422 and "aviso de privacidad" in refused.text


def test_manage_link_cancel_reschedule_and_review(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    link = book(client, alpha, alpha.barber_ids[0], after="15:00").replace("&nueva=1", "")
    booking_id = link.split("/")[2].split("?")[0]
    token = link.split("token=")[1]
    assert client.get(f"/reservas/{booking_id}?token=wrong").status_code == 404
    move_page = client.get(f"/reservas/{booking_id}/cambiar", params={"token": token, "fecha": "2026-03-03"})
    later = slot_values(move_page.text)[0]
    assert later.startswith("2026-03-03T09:00")
    moved = client.post(
        f"/reservas/{booking_id}/cambiar", data={"token": token, "hora": later, "barbero": ""}, follow_redirects=False
    )
    assert moved.status_code == 303
    assert "martes 3 de marzo, 09:00" in client.get(moved.headers["location"]).text
    cancelled = client.post(f"/reservas/{booking_id}/cancelar", data={"token": token}, follow_redirects=True)
    assert "Cancelaste el turno" in cancelled.text and "Cancelado" in cancelled.text
    # Within the cut-off (2 h; it is 09:00, the visit at 10:00) the customer is told to call.
    late = book(client, alpha, alpha.barber_ids[1]).replace("&nueva=1", "")
    late_id, late_token = late.split("/")[2].split("?")[0], late.split("token=")[1]
    refused = client.post(f"/reservas/{late_id}/cancelar", data={"token": late_token})
    assert refused.status_code == 409 and "llamá al local" in refused.text
    # After the visit (marked completed by staff) the same link takes a review, once.
    platform.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    from barberpro.application.bookings import mark_completed
    from barberpro.application.context import Context
    from barberpro.domain.booking import SYSTEM

    mark_completed(platform.uow(alpha.tenant_id), Context(alpha.tenant_id, SYSTEM, "t", platform.clock.now()), late_id)
    review_page = client.get(f"/reservas/{late_id}", params={"token": late_token})
    assert "¿Cómo te fue?" in review_page.text
    posted = client.post(
        f"/reservas/{late_id}/resena",
        data={"token": late_token, "puntuacion": "4", "texto": "Muy bien"},
        follow_redirects=True,
    )
    assert "¡Gracias por tu reseña!" in posted.text and "¿Cómo te fue?" not in posted.text
    assert "★ 4,0" in client.get("/").text


def test_other_tenant_never_sees_this_tenant(client: TestClient, alpha: TenantFixture, beta: TenantFixture) -> None:
    link = book(client, alpha)
    beta_home = client.get("/", headers={"host": "beta.example.com"})
    assert "Barbería Beta" in beta_home.text and "Barbería Alpha" not in beta_home.text
    assert "alpha centro" not in beta_home.text
    foreign = client.get(link, headers={"host": "beta.example.com"})
    assert foreign.status_code == 404 and "Ana" not in foreign.text
    cross = client.get("/reservar", params={"local": alpha.shop_id}, headers={"host": "beta.example.com"})
    assert cross.status_code == 404


def test_data_request_is_recorded_without_revealing_customers(
    client: TestClient, alpha: TenantFixture, platform: Platform
) -> None:
    book(client, alpha)
    known = client.post("/privacidad", data={"tipo": "deletion", "telefono": PHONE, "email": "ana@example.com"})
    unknown = client.post(
        "/privacidad", data={"tipo": "deletion", "telefono": "+54 9 11 4321-8765", "email": "x@example.com"}
    )
    assert known.status_code == unknown.status_code == 200
    assert "Recibimos tu pedido de eliminación" in known.text and "Recibimos tu pedido" in unknown.text
    with platform.uow(alpha.tenant_id, write=False) as uow:
        entries = [e for e in uow.audit.list(limit=100) if e.action == "PersonalDataRequested"]
    assert len(entries) == 2
    assert sorted(bool(e.after and e.after["customer_id"]) for e in entries) == [False, True]
    bad = client.post("/privacidad", data={"tipo": "access", "telefono": "1", "email": "a@b.co"})
    assert bad.status_code == 422 and "Revisá el teléfono" in bad.text
