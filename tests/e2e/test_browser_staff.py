"""Staff and white-label in a real browser: log-in, agenda, theme changes, two tenants on one server."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from test_payments_support import AUTH_URL, payment_world

from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWork
from barberpro.application.payment_ports import InvoiceStatus
from barberpro.domain.identifiers import new_id
from e2e.browser_support import Site, accessibility_problems, book_by_api
from platform_fixtures import PASSWORD, store_paid_invoice

HEADER_COLOUR = "getComputedStyle(document.querySelector('.brandbar')).backgroundColor"


def log_in(page: Any, site: Site, email: str, password: str = PASSWORD) -> None:
    page.goto(site.url("alpha", "/staff/agenda"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()


def test_staff_login_agenda_and_mark_completed(site: Site, desktop: Any) -> None:
    booking = book_by_api(site, "2026-03-02T10:00:00-03:00", site.alpha.barber_ids[0])
    site.platform.clock.advance(timedelta(hours=1, minutes=5))  # type: ignore[attr-defined]
    log_in(desktop, site, site.alpha.owner_email)
    desktop.get_by_role("heading", name="Agenda · alpha centro").wait_for()
    assert desktop.locator(".column h2").all_inner_texts() == ["Barbero 1", "Barbero 2", "Barbero 3"]
    assert accessibility_problems(desktop) == []
    card = desktop.locator(f"[data-booking='{booking['id']}']")
    assert "Otro Cliente" in card.inner_text() and "Confirmado" in card.inner_text()
    card.get_by_role("button", name="Completado").click()
    assert "Turno marcado como completado" in desktop.locator(".notice").inner_text()
    assert "Completado" in desktop.locator(f"[data-booking='{booking['id']}'] .status").inner_text()
    assert accessibility_problems(desktop) == []  # status colours included
    desktop.get_by_role("button", name="Salir").click()
    desktop.get_by_role("heading", name="Acceso para el equipo").wait_for()
    desktop.goto(site.url("alpha", "/staff/agenda"))
    assert "/staff/ingresar" in desktop.url


def test_lockout_is_explained(site: Site, desktop: Any) -> None:
    for _ in range(5):
        log_in(desktop, site, site.alpha.owner_email, "equivocada")
    assert "bloqueada por seguridad" in desktop.get_by_role("alert").inner_text()


def test_owner_changes_theme_and_public_page_shows_it(site: Site, desktop: Any) -> None:
    log_in(desktop, site, site.alpha.owner_email)
    desktop.get_by_role("link", name="Administración").click()
    assert accessibility_problems(desktop) == []
    desktop.get_by_label("Nombre del negocio").fill("Alpha Barber Club")
    desktop.get_by_label("Color principal").fill("#5a1e6e")
    desktop.get_by_label("Fondo").fill("#fffaf0")
    desktop.get_by_role("button", name="Guardar marca").click()
    assert "Cambios guardados" in desktop.locator(".notice").inner_text()
    public = desktop.context.new_page()
    public.goto(site.url("alpha"))
    assert public.locator(".brand").inner_text() == "Alpha Barber Club"
    assert public.evaluate(HEADER_COLOUR) == "rgb(90, 30, 110)"
    assert public.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 250, 240)"
    assert accessibility_problems(public) == []
    # The other tenant on the same server keeps its own look.
    public.goto(site.url("beta"))
    assert public.locator(".brand").inner_text() == "Barbería Beta"
    assert public.evaluate(HEADER_COLOUR) == "rgb(31, 58, 95)"


def test_second_tenant_never_shows_the_first(site: Site, desktop: Any) -> None:
    booking = book_by_api(site, "2026-03-02T12:00:00-03:00")
    manage_path = "/reservas/" + booking["manage_url"].split("/reservas/", 1)[1]
    desktop.goto(site.url("beta"))
    text = desktop.locator("body").inner_text()
    assert "Barbería Beta" in text and "Alpha" not in text and "alpha centro" not in text
    desktop.goto(site.url("beta", manage_path))
    assert desktop.get_by_role("heading", name="No encontrado").is_visible()
    assert "Otro Cliente" not in desktop.locator("body").inner_text()
    # And alpha's owner cannot use alpha's session on beta's address.
    log_in(desktop, site, site.alpha.owner_email)
    desktop.goto(site.url("beta", "/staff/agenda"))
    assert "/staff/ingresar" in desktop.url


def test_the_accessibility_check_catches_problems(desktop: Any) -> None:
    desktop.set_content(
        "<main><input id='x'><p style='color:#aaa;background:#fff'>gris claro</p>"
        "<label for='y'>Bien</label><input id='y'><img src='data:,'></main>"
    )
    problems = accessibility_problems(desktop)
    assert any(p.startswith("field without label: input#x") for p in problems)
    assert any(p.startswith("contrast") and "gris claro" in p for p in problems)
    assert any(p.startswith("image without alt") for p in problems)
    assert not any("input#y" in p for p in problems)


def test_owner_sees_a_personal_data_request_and_marks_it_answered(site: Site, desktop: Any) -> None:
    public = desktop.context.new_page()
    public.goto(site.url("alpha", "/privacidad"))
    public.get_by_label("Que borren mis datos").check()
    public.get_by_label("Celular").fill("+54 9 11 4321-8765")
    public.get_by_label("E-mail").fill("pedido@example.com")
    public.get_by_label("Mensaje (opcional)").fill("Por favor borren mi teléfono")
    public.get_by_role("button", name="Enviar pedido").click()
    public.get_by_text("Recibimos tu pedido").first.wait_for()
    log_in(desktop, site, site.alpha.owner_email)
    desktop.get_by_role("link", name="Pedidos de datos").click()
    desktop.get_by_role("heading", name="Pedidos de datos personales (Ley 25.326)").wait_for()
    row = desktop.locator("tr", has_text="pedido@example.com")
    assert "Supresión" in row.inner_text() and "Pendiente" in row.inner_text()
    assert "Por favor borren mi teléfono" in row.inner_text()
    assert accessibility_problems(desktop) == []
    row.get_by_label("Nota de la respuesta").fill("Datos borrados salvo facturas")
    row.get_by_role("button", name="Marcar como respondida").click()
    assert "Pedido marcado como respondido" in desktop.locator(".notice").inner_text()
    answered = desktop.locator("tr", has_text="pedido@example.com").inner_text()
    assert "Respondida" in answered and "Datos borrados salvo facturas" in answered
    assert accessibility_problems(desktop) == []


def test_owner_reads_how_to_connect_mercadopago_and_a_wrong_token_is_explained(site: Site, desktop: Any) -> None:
    log_in(desktop, site, site.alpha.owner_email)
    desktop.get_by_role("link", name="Cobros").click()
    desktop.get_by_role("heading", name="Cobros con MercadoPago").wait_for()
    assert "Todavía no conectaste tu cuenta" in desktop.locator("main").inner_text()
    assert accessibility_problems(desktop) == []
    desktop.get_by_label("Access Token").fill("mi-token")
    desktop.get_by_label("Clave secreta de Webhooks").fill("a1b2c3d4e5f6a7b8c9d0")
    desktop.get_by_role("button", name="Conectar").click()
    error = desktop.locator("#access_token-error")
    assert "Revisá el Access Token" in error.inner_text()
    assert desktop.get_by_label("Access Token").get_attribute("aria-invalid") == "true"
    assert accessibility_problems(desktop) == []


def test_owner_connects_mercadopago_through_the_platforms_one_way_back(
    site: Site, desktop: Any, tmp_path: Path
) -> None:
    # The platform's one redirect URL, on its own host; MercadoPago's authorization page is
    # played by the browser's router: the seller sees a consent page and presses "Permitir".
    way_back = f"http://barberpro.example.com:{site.port}/mercadopago/vuelta"
    world = payment_world(site.platform, site.alpha, tmp_path, oauth=True, redirect_url=way_back)

    def mercadopago(route: Any) -> None:
        asked = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        assert asked["redirect_uri"] == way_back
        code = world.mp.authorize("7100", client_id=asked["client_id"], redirect_uri=asked["redirect_uri"],
                                  code_challenge=asked["code_challenge"])  # fmt: skip
        target = f"{asked['redirect_uri']}?{urlencode({'code': code, 'state': asked['state']})}"
        route.fulfill(
            content_type="text/html; charset=utf-8",
            body=f'<!doctype html><html lang="es"><title>MercadoPago</title><a href="{target}">Permitir</a></html>',
        )

    desktop.route(f"{AUTH_URL}*", mercadopago)
    log_in(desktop, site, site.alpha.owner_email)
    desktop.get_by_role("link", name="Cobros").click()
    desktop.get_by_role("link", name="Conectar con MercadoPago").click()
    desktop.get_by_role("link", name="Permitir").click()
    # Through the platform's address and back to the shop's, where the flow's cookie is (sent on
    # the cross-site navigation back: SameSite=Lax).
    desktop.get_by_text("Cuenta conectada: los próximos cobros van a tu cuenta.").wait_for()
    assert desktop.url == site.url("alpha", "/staff/mercadopago?aviso=conectada")
    assert "con «Conectar con MercadoPago»" in desktop.locator("main").inner_text()
    account = world.services.account_of(site.alpha.tenant_id)
    assert account is not None and (account.user_id, account.via) == ("7100", "oauth")
    assert accessibility_problems(desktop) == []


def test_the_agenda_shows_a_bookings_payment_and_vouchers(site: Site, desktop: Any) -> None:
    booking = book_by_api(site, "2026-03-02T10:00:00-03:00", site.alpha.barber_ids[0])
    _, invoice = store_paid_invoice(site.platform, site.alpha, booking["id"], date(2026, 3, 2),
                                    refunded=Decimal("2000.00"), number=7, receiver="Otro Cliente")  # fmt: skip
    note = replace(invoice, id=new_id(), voucher_type=13, status=InvoiceStatus.REJECTED, number=None, cae=None,
                   cae_due=None, total=Decimal("2000.00"), net=Decimal("2000.00"),
                   credits_invoice_id=invoice.id)  # fmt: skip
    with SqlPaymentsUnitOfWork(site.platform.database, site.alpha.tenant_id) as uow:
        uow.invoices.add(note)
        uow.commit()
    log_in(desktop, site, site.alpha.owner_email)
    desktop.goto(site.url("alpha", "/staff/agenda?fecha=2026-03-02"))
    money = desktop.locator(f"[data-booking='{booking['id']}']").get_by_role("list", name="Cobro y comprobantes")
    assert [" ".join(text.split()) for text in money.locator("li").all_text_contents()] == [
        "Pagado $ 12.000,00 · devuelto $ 2.000,00",
        "Factura C 00003-00000007 (PDF, abre en otra pestaña)",
        "Nota de crédito C: rechazada por AFIP",
    ]
    link = money.get_by_role("link", name="Factura C 00003-00000007 (PDF, abre en otra pestaña)")
    assert link.get_attribute("href") == f"/api/v1/invoices/{invoice.id}/pdf"
    assert accessibility_problems(desktop) == []
