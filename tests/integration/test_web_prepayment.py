"""A shop that takes payment up front: the web flow holds the slot and sends the customer to MercadoPago."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from test_payments_support import payment_world
from test_web_customer import details_form, slot_values

from barberpro.bootstrap import Platform
from platform_fixtures import TenantFixture


def test_web_booking_in_a_prepayment_shop_goes_to_checkout(
    client: TestClient, platform: Platform, alpha: TenantFixture, tmp_path: Path
) -> None:
    world = payment_world(platform, alpha, tmp_path)
    barber = alpha.barber_ids[0]
    page = client.get("/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": barber})
    first = slot_values(page.text)[0]
    form = details_form(client, alpha.shop_id, alpha.service_id, barber, first)
    done = client.post("/reservar", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("https://"), done.headers["location"]
    assert len(world.mp.preferences) == 1
    preference = next(iter(world.mp.preferences.values()))
    # The held slot is gone for everybody else until paid or expired.
    again = client.get("/reservar", params={"local": alpha.shop_id, "servicio": alpha.service_id, "barbero": barber})
    assert first not in slot_values(again.text)
    # A double submit goes to the same checkout, not a second one.
    twice = client.post("/reservar", data=form, follow_redirects=False)
    assert twice.headers["location"] == done.headers["location"] and len(world.mp.preferences) == 1
    assert preference["external_reference"]
