"""A customer in a real browser: booking on a phone, a slot race, the manage link, keyboard only."""

from __future__ import annotations

from typing import Any

from e2e.browser_support import Site, accessibility_problems, book_by_api

PHONE = "+54 9 11 2345-6789"


def fill_details(page: Any, name: str = "Ana Pérez", phone: str = PHONE) -> None:
    page.get_by_label("Nombre y apellido").fill(name)
    page.get_by_label("Celular").fill(phone)
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_label("Leí el aviso de privacidad", exact=False).check()


def test_customer_books_end_to_end_on_a_phone(site: Site, phone: Any) -> None:
    phone.goto(site.url("alpha"))
    assert phone.locator(".brand").inner_text() == "Barbería Alpha"
    assert accessibility_problems(phone) == []
    phone.get_by_role("link", name="Reservar en alpha centro").click()
    assert accessibility_problems(phone) == []
    phone.get_by_role("button", name="Corte 30 min $ 12.000,00").click()
    phone.get_by_role("button", name="Cualquiera").click()
    assert phone.locator("#horarios").get_by_role("button").first.inner_text() == "10:00"
    assert accessibility_problems(phone) == []
    phone.locator("#horarios").get_by_role("button", name="11:30").click()
    assert "lunes 2 de marzo, 11:30" in phone.locator(".summary").inner_text()
    assert accessibility_problems(phone) == []
    fill_details(phone)
    phone.get_by_role("button", name="Confirmar turno").click()
    phone.get_by_role("heading", name="¡Listo! Tu turno está confirmado").wait_for()
    assert phone.locator("#estado").inner_text() == "Confirmado"
    assert "/reservas/" in phone.locator("#enlace-gestion").get_attribute("href")
    assert accessibility_problems(phone) == []
    # Nothing scrolls sideways on a phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_slot_taken_meanwhile_shows_a_friendly_message(site: Site, phone: Any) -> None:
    barber = site.alpha.barber_ids[0]
    phone.goto(
        site.url("alpha", f"/reservar?local={site.alpha.shop_id}&servicio={site.alpha.service_id}&barbero={barber}")
    )
    phone.locator("#horarios").get_by_role("button", name="10:00").click()
    fill_details(phone)
    book_by_api(site, "2026-03-02T10:00:00-03:00", barber)  # someone else is faster
    phone.get_by_role("button", name="Confirmar turno").click()
    alert = phone.locator("#aviso-ocupado")
    assert "Ese horario se acaba de ocupar" in alert.inner_text()
    times = phone.locator("#horarios").get_by_role("button").all_inner_texts()
    assert times and "10:00" not in times
    phone.locator("#horarios").get_by_role("button", name="10:45").click()
    assert phone.get_by_label("Celular").input_value() == PHONE  # typed data survived
    phone.get_by_label("Leí el aviso de privacidad", exact=False).check()
    phone.get_by_role("button", name="Confirmar turno").click()
    phone.get_by_role("heading", name="¡Listo! Tu turno está confirmado").wait_for()


def test_manage_link_reschedule_then_cancel(site: Site, phone: Any) -> None:
    booking = book_by_api(site, "2026-03-02T15:00:00-03:00", site.alpha.barber_ids[1])
    link = booking["manage_url"].split("/reservas/", 1)[1]
    phone.goto(site.url("alpha", "/reservas/" + link))
    assert "lunes 2 de marzo, 15:00" in phone.locator("#cuando").inner_text()
    phone.get_by_role("link", name="Cambiar día u hora").click()
    phone.get_by_role("button", name="mar 3/3").click()
    phone.get_by_role("button", name="09:30").click()
    assert "Listo, cambiamos tu turno" in phone.locator(".notice").inner_text()
    assert "martes 3 de marzo, 09:30" in phone.locator("#cuando").inner_text()
    phone.get_by_role("button", name="Cancelar turno").click()
    assert "Cancelaste el turno" in phone.locator(".notice").inner_text()
    assert phone.locator("#estado").inner_text() == "Cancelado"
    assert phone.get_by_role("button", name="Cancelar turno").count() == 0


def test_keyboard_only_booking(site: Site, desktop: Any) -> None:
    page = desktop
    page.goto(site.url("alpha"))

    def tab_to(predicate: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
                return
        raise AssertionError(f"keyboard focus never reached: {predicate}")

    tab_to("el.textContent.includes('Reservar en alpha centro')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/reservar?**")
    tab_to("el.tagName === 'BUTTON' && el.textContent.includes('Color')")
    page.keyboard.press("Enter")
    page.wait_for_url("**servicio=**")
    tab_to("el.tagName === 'BUTTON' && el.textContent.includes('Barbero 2')")
    page.keyboard.press("Enter")
    page.wait_for_url("**barbero=**")
    tab_to("el.name === 'hora' && el.textContent.trim() === '14:00'")
    page.keyboard.press("Enter")
    page.wait_for_url("**hora=**")
    tab_to("el.id === 'nombre'")
    page.keyboard.type("Teclado Solo")
    page.keyboard.press("Tab")
    page.keyboard.type("011 15 2345-6789")
    tab_to("el.id === 'email'")
    page.keyboard.type("teclado@example.com")
    tab_to("el.id === 'consentimiento'")
    page.keyboard.press("Space")
    tab_to("el.textContent.includes('Confirmar turno')")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="¡Listo! Tu turno está confirmado").wait_for()
    assert "lunes 2 de marzo, 14:00" in page.locator("#cuando").inner_text()


def test_day_change_fetches_times_without_reloading(site: Site, phone: Any) -> None:
    phone.goto(
        site.url("alpha", f"/reservar?local={site.alpha.shop_id}&servicio={site.alpha.service_id}&barbero=cualquiera")
    )
    phone.evaluate("window.__stillHere = true")
    phone.get_by_role("button", name="mié 4/3").click()
    phone.locator("#horarios h3", has_text="miércoles 4 de marzo").wait_for()
    assert phone.evaluate("window.__stillHere === true")  # the list changed, the page did not reload
    assert "fecha=2026-03-04" in phone.url
    assert phone.locator("#horarios").get_by_role("button").first.inner_text() == "09:00"


def test_pages_without_javascript(site: Site, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(
        site.url("alpha", f"/reservar?local={site.alpha.shop_id}&servicio={site.alpha.service_id}&barbero=cualquiera")
    )
    page.get_by_role("button", name="mié 4/3").click()  # a plain GET form: full page
    page.locator("#horarios").get_by_role("button", name="09:00").click()
    fill_details(page)
    page.get_by_role("button", name="Confirmar turno").click()
    page.get_by_role("heading", name="¡Listo! Tu turno está confirmado").wait_for()
    context.close()
