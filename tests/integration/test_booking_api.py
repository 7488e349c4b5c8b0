"""The public booking contract and the booking life-cycle over HTTP, on each database."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from barberpro.bootstrap import Platform
from conftest import staff_headers
from platform_fixtures import TenantFixture

PROBLEM = "application/problem+json"


def booking_body(t: TenantFixture, start: str, barber_id: str | None = None, phone: str = "+54 9 11 2345-6789"):
    return {
        "shop_id": t.shop_id,
        "service_id": t.service_id,
        "barber_id": barber_id,
        "start": start,
        "customer": {"name": "Ana Pérez", "phone": phone, "email": "ana@example.com"},
    }


def first_slot(client: TestClient, t: TenantFixture, day: str = "2026-03-03", barber_id: str | None = None):
    params = {"service_id": t.service_id, "date": day}
    if barber_id:
        params["barber_id"] = barber_id
    response = client.get(f"/api/v1/shops/{t.shop_id}/availability", params=params)
    assert response.status_code == 200, response.text
    return response.json()["slots"]


def test_public_reads_follow_the_contract(client: TestClient, alpha: TenantFixture) -> None:
    shops = client.get("/api/v1/shops").json()["items"]
    assert [s["id"] for s in shops] == [alpha.shop_id]
    services = client.get(f"/api/v1/shops/{alpha.shop_id}/services").json()["items"]
    assert {s["name"] for s in services} == {"Corte", "Color"}
    corte = next(s for s in services if s["name"] == "Corte")
    assert corte["price"] == "12000.00" and corte["price_display"] == "$ 12.000,00"
    assert corte["duration_minutes"] == 30
    barbers = client.get(f"/api/v1/shops/{alpha.shop_id}/barbers").json()["items"]
    assert len(barbers) == 3
    slots = first_slot(client, alpha, barber_id=alpha.barber_ids[0])
    # Tuesday 3 March: 09:00-13:00 and 14:00-18:00 local, 30 min + 10 buffer, 15-min grid.
    assert slots[0]["start"] == "2026-03-03T09:00:00-03:00"
    assert slots[0]["end"] == "2026-03-03T09:30:00-03:00"
    assert all(s["barber_id"] == alpha.barber_ids[0] for s in slots)
    assert "2026-03-03T13:00:00-03:00" not in {s["start"] for s in slots}
    assert slots[-1]["start"] == "2026-03-03T17:30:00-03:00"


def test_booking_life_cycle_with_manage_token(client: TestClient, alpha: TenantFixture) -> None:
    slot = first_slot(client, alpha)[0]
    created = client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"]))
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "confirmed" and booking["start"] == slot["start"]
    assert booking["customer"]["phone"] == "+5491123456789"
    token = booking["manage_token"]
    # The slot is gone for that barber.
    after = first_slot(client, alpha, barber_id=booking["barber_id"])
    assert slot["start"] not in {s["start"] for s in after}

    assert client.get(f"/api/v1/bookings/{booking['id']}").status_code == 404
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers={"X-Manage-Token": token + "x"}).status_code == 404
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers={"X-Manage-Token": token}).status_code == 200

    later = next(s for s in first_slot(client, alpha, "2026-03-04", booking["barber_id"]) if "T11:00" in s["start"])
    moved = client.post(
        f"/api/v1/bookings/{booking['id']}/reschedule",
        json={"start": later["start"]},
        headers={"X-Manage-Token": token},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == later["start"] and moved.json()["version"] == 2

    cancelled = client.post(
        f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "viaje"}, headers={"X-Manage-Token": token}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers={"X-Manage-Token": token})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM


def test_customer_cannot_cancel_after_cutoff(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    slot = first_slot(client, alpha, "2026-03-02")[0]  # today, at least an hour ahead
    booking = client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"])).json()
    response = client.post(
        f"/api/v1/bookings/{booking['id']}/cancel", headers={"X-Manage-Token": booking["manage_token"]}
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/policy-violation")
    staff = staff_headers(client, alpha.owner_email)
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=staff).status_code == 200


def test_idempotency_key(client: TestClient, alpha: TenantFixture) -> None:
    slot = first_slot(client, alpha)[0]
    body = booking_body(alpha, slot["start"])
    first = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "abc-123"})
    second = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = dict(body, start=first_slot(client, alpha)[3]["start"])
    reused = client.post("/api/v1/bookings", json=other, headers={"Idempotency-Key": "abc-123"})
    assert reused.status_code == 422 and reused.headers["content-type"] == PROBLEM
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_booking_is_one_transaction(client: TestClient, platform: Platform, alpha: TenantFixture) -> None:
    """The prepayment check, the booking and what the answer shows: one connection, one
    transaction (under overload every extra one is another wait for the interpreter)."""
    import threading

    from sqlalchemy import event

    slots = first_slot(client, alpha)
    checkouts: list[str] = []

    def count(*_: object) -> None:
        if threading.current_thread().name != "outbox-relay":  # the relay polls on its own
            checkouts.append(threading.current_thread().name)

    event.listen(platform.database.engine, "checkout", count)
    try:
        body = booking_body(alpha, slots[0]["start"])
        created = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "one-tx"})
        assert created.status_code == 201, created.text
        assert len(checkouts) == 1
        replayed = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "one-tx"})
        assert len(checkouts) == 2
    finally:
        event.remove(platform.database.engine, "checkout", count)
    # The replay shows the same booking, customer included, as the first answer.
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    first, again = created.json(), replayed.json()
    assert first["customer"] == again["customer"] and first["customer"]["phone"] == "+5491123456789"
    assert {k: v for k, v in first.items() if k not in ("manage_token", "manage_url")} == {
        k: v for k, v in again.items() if k not in ("manage_token", "manage_url")
    }


def test_taken_slot_is_a_409_problem(client: TestClient, alpha: TenantFixture) -> None:
    barber = alpha.barber_ids[0]
    slot = first_slot(client, alpha, barber_id=barber)[0]
    assert client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"], barber)).status_code == 201
    clash = client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"], barber, "+54 9 11 5555-1234"))
    assert clash.status_code == 409
    problem = clash.json()
    assert clash.headers["content-type"] == PROBLEM
    assert problem["type"].endswith("/slot-unavailable") and problem["errors"][0]["field"] == "start"


def test_bad_input_is_a_problem_naming_the_field(client: TestClient, alpha: TenantFixture) -> None:
    slot = first_slot(client, alpha)[0]
    cases = [
        (dict(booking_body(alpha, slot["start"]), start="2026-03-03T10:00:00"), "start"),
        (booking_body(alpha, slot["start"], phone="12"), "customer.phone"),
        (
            dict(
                booking_body(alpha, slot["start"]),
                customer={"name": "A", "phone": "+5491123456789", "email": "no-at-sign"},
            ),
            "customer.email",
        ),
        (dict(booking_body(alpha, slot["start"]), service_id="nope"), "service_id"),
        ({"shop_id": alpha.shop_id}, "service_id"),
        (dict(booking_body(alpha, slot["start"]), start="2026-03-03T10:07:00-03:00"), "start"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/bookings", json=body)
        assert response.status_code in (404, 409, 422), (field, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert field in {e["field"] for e in response.json()["errors"]}, (field, response.json())
    garbage = client.post("/api/v1/bookings", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 422 and garbage.headers["content-type"] == PROBLEM
    assert (
        client.get(
            f"/api/v1/shops/{alpha.shop_id}/availability", params={"service_id": alpha.service_id, "date": "03/03/2026"}
        ).status_code
        == 422
    )


def test_notice_and_horizon(client: TestClient, alpha: TenantFixture) -> None:
    today = first_slot(client, alpha, "2026-03-02")
    assert today and today[0]["start"] >= "2026-03-02T10:00:00-03:00"  # now is 09:00, notice one hour
    assert first_slot(client, alpha, "2026-04-15") == []  # beyond the 30-day horizon
    response = client.post("/api/v1/bookings", json=booking_body(alpha, "2026-03-02T09:15:00-03:00"))
    assert response.status_code == 409 and "notice" in response.json()["detail"]


def test_staff_agenda_complete_and_review(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    slot = first_slot(client, alpha, "2026-03-02")[0]
    booking = client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"])).json()
    staff = staff_headers(client, alpha.owner_email)
    agenda = client.get("/api/v1/staff/agenda", params={"shop_id": alpha.shop_id, "date": "2026-03-02"}, headers=staff)
    assert agenda.status_code == 200
    columns = agenda.json()["barbers"]
    assert len(columns) == 3
    assert [b["id"] for c in columns for b in c["bookings"]] == [booking["id"]]
    token = {"X-Manage-Token": booking["manage_token"]}
    early = client.post(
        f"/api/v1/bookings/{booking['id']}/review", json={"rating": 5, "text": "¡Genial!"}, headers=token
    )
    assert early.status_code == 409  # not completed yet
    too_soon = client.post(f"/api/v1/bookings/{booking['id']}/complete", headers=staff)
    assert too_soon.status_code == 409  # has not started
    platform.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    assert client.post(f"/api/v1/bookings/{booking['id']}/complete", headers=staff).json()["status"] == "completed"
    assert client.post(f"/api/v1/bookings/{booking['id']}/complete", headers=staff).status_code == 409
    review = client.post(
        f"/api/v1/bookings/{booking['id']}/review", json={"rating": 5, "text": "¡Genial!"}, headers=token
    )
    assert review.status_code == 201
    twice = client.post(f"/api/v1/bookings/{booking['id']}/review", json={"rating": 4}, headers=token)
    assert twice.status_code == 409
    bad = client.post(f"/api/v1/bookings/{booking['id']}/review", json={"rating": 6}, headers=token)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rating"
    reviews = client.get(f"/api/v1/shops/{alpha.shop_id}/reviews").json()
    assert [r["rating"] for r in reviews["items"]] == [5]
    assert client.get(f"/api/v1/shops/{alpha.shop_id}").json()["reviews"] == {"count": 1, "average": 5.0}


def test_staff_catalogue_and_exceptions(client: TestClient, alpha: TenantFixture) -> None:
    staff = staff_headers(client, alpha.owner_email)
    barber = client.post("/api/v1/staff/barbers", json={"shop_id": alpha.shop_id, "name": "Nuevo"}, headers=staff)
    assert barber.status_code == 201
    barber_id = barber.json()["id"]
    hours = client.put(
        f"/api/v1/staff/barbers/{barber_id}/hours",
        headers=staff,
        json={"days": [{"weekday": 1, "intervals": [{"start": "10:00", "end": "12:00"}]}]},
    )
    assert hours.status_code == 200
    slots = first_slot(client, alpha, barber_id=barber_id)
    assert [s["start"][11:16] for s in slots] == ["10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30"]
    overlapping = client.put(
        f"/api/v1/staff/barbers/{barber_id}/hours",
        headers=staff,
        json={
            "days": [
                {"weekday": 1, "intervals": [{"start": "10:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}
            ]
        },
    )
    assert overlapping.status_code == 422
    day_off = client.post(
        "/api/v1/staff/exceptions",
        headers=staff,
        json={"shop_id": alpha.shop_id, "day": "2026-03-03", "kind": "day_off", "barber_id": barber_id},
    )
    assert day_off.status_code == 201
    assert first_slot(client, alpha, barber_id=barber_id) == []
    holiday = client.post(
        "/api/v1/staff/exceptions",
        headers=staff,
        json={"shop_id": alpha.shop_id, "day": "2026-03-04", "kind": "holiday"},
    )
    assert holiday.status_code == 201
    assert first_slot(client, alpha, "2026-03-04") == []
    special = client.post(
        "/api/v1/staff/exceptions",
        headers=staff,
        json={
            "shop_id": alpha.shop_id,
            "day": "2026-03-05",
            "kind": "special_hours",
            "barber_id": alpha.barber_ids[0],
            "intervals": [{"start": "15:00", "end": "16:00"}],
        },
    )
    assert special.status_code == 201
    special_slots = first_slot(client, alpha, "2026-03-05", alpha.barber_ids[0])
    assert [s["start"][11:16] for s in special_slots] == ["15:00", "15:15", "15:30"]
    assert client.delete(f"/api/v1/staff/exceptions/{holiday.json()['id']}", headers=staff).status_code == 204
    assert first_slot(client, alpha, "2026-03-04")
    service = client.post(
        "/api/v1/staff/services",
        headers=staff,
        json={"shop_id": alpha.shop_id, "name": "Barba", "duration_minutes": 20, "price": "8000.5"},
    )
    assert service.status_code == 201 and service.json()["price"] == "8000.50"
    negative = client.post(
        "/api/v1/staff/services",
        headers=staff,
        json={"shop_id": alpha.shop_id, "name": "Gratis", "duration_minutes": 20, "price": "-1"},
    )
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "price"
    patched = client.patch(f"/api/v1/staff/services/{service.json()['id']}", headers=staff, json={"price": "9000"})
    assert patched.json()["price"] == "9000.00"
    shop = client.patch(f"/api/v1/staff/shops/{alpha.shop_id}", headers=staff, json={"timezone": "Mars/Olympus"})
    assert shop.status_code == 422 and shop.json()["errors"][0]["field"] == "timezone"
    audit = client.get("/api/v1/staff/audit", headers=staff).json()["items"]
    actions = [e["action"] for e in audit]
    for action in (
        "BarberCreated",
        "WorkingHoursSet",
        "DateExceptionAdded",
        "DateExceptionDeleted",
        "ServiceCreated",
        "ServiceUpdated",
    ):
        assert action in actions
    assert all(e["request_id"] for e in audit)


def test_bookings_list_uses_cursor_pagination(client: TestClient, alpha: TenantFixture) -> None:
    slots = first_slot(client, alpha, barber_id=alpha.barber_ids[0])
    starts = [s["start"] for s in slots[::4]][:5]
    for index, start in enumerate(starts):
        response = client.post(
            "/api/v1/bookings", json=booking_body(alpha, start, alpha.barber_ids[0], f"+54 9 11 4000-000{index}")
        )
        assert response.status_code == 201, response.text
    staff = staff_headers(client, alpha.owner_email)
    seen, cursor = [], None
    while True:
        params = {"shop_id": alpha.shop_id, "from": "2026-03-01", "to": "2026-03-10", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/staff/bookings", params=params, headers=staff).json()
        seen.extend(b["start"] for b in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == starts
    bad = client.get("/api/v1/staff/bookings", params={"shop_id": alpha.shop_id, "cursor": "!!"}, headers=staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_dates_out_of_range_are_problems_not_errors(client: TestClient, alpha: TenantFixture) -> None:
    staff = staff_headers(client, alpha.owner_email)
    checks = [
        client.get(
            f"/api/v1/shops/{alpha.shop_id}/availability", params={"service_id": alpha.service_id, "date": "9999-12-31"}
        ),
        client.get("/api/v1/staff/agenda", params={"shop_id": alpha.shop_id, "date": "0001-01-01"}, headers=staff),
        client.get("/api/v1/staff/bookings", params={"shop_id": alpha.shop_id, "from": "9999-12-31"}, headers=staff),
        client.post("/api/v1/bookings", json=booking_body(alpha, "9999-12-31T23:59:00-03:00")),
        client.post("/api/v1/bookings", json=booking_body(alpha, "0001-01-01T00:00:00+14:00")),
    ]
    for response in checks:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM


def test_staff_export_the_audit_trail(client: TestClient, alpha: TenantFixture, beta: TenantFixture) -> None:
    slot = first_slot(client, alpha)[0]
    booking = client.post("/api/v1/bookings", json=booking_body(alpha, slot["start"])).json()
    staff = staff_headers(client, alpha.owner_email)
    exported = client.get("/api/v1/staff/audit/export", params={"format": "csv"}, headers=staff)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert booking["id"] in exported.text and "BookingConfirmed" in exported.text
    assert beta.shop_id not in exported.text  # one tenant only
    as_json = client.get("/api/v1/staff/audit/export", params={"format": "json"}, headers=staff).json()
    assert any(row["action"] == "AuditTrailExported" for row in as_json)
    assert client.get("/api/v1/staff/audit/export", params={"format": "xml"}, headers=staff).status_code == 422
    assert client.get("/api/v1/staff/audit/export").status_code == 401
