"""The customer's consent to the privacy notice (Ley 25.326): recorded with the booking, in its
transaction, once per booking, on the web and through the API; shown in the data export; never
visible to another tenant. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from test_web_customer import PHONE, details_form, slot_values

from barberpro.adapters.payments.unit_of_work import SqlPaymentsUnitOfWork
from barberpro.application.bookings import BookAppointment, ConsentGiven, CustomerDetails, book_appointment
from barberpro.application.context import Context
from barberpro.application.customer_data import export_customer_data
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from barberpro.domain.consent import ConsentChannel, PrivacyConsent, notice_version
from barberpro.domain.errors import InvalidValue, SlotUnavailable
from barberpro.domain.identifiers import new_id
from barberpro.entrypoints.web import privacy_notice
from barberpro.entrypoints.web.privacy_notice import current_notice_version
from conftest import staff_headers
from platform_fixtures import TenantFixture

PROBLEM = "application/problem+json"
ANA = {"name": "Ana Pérez", "phone": PHONE, "email": "ana@example.com"}  # as the web form fills it in


def _consents(platform: Platform, tenant: TenantFixture) -> list[PrivacyConsent]:
    """Every consent row of the tenant, read through the raw table (not through the code under test)."""
    with platform.database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, tenant_id, customer_id, booking_id, notice_version, granted_at, channel "
                "FROM privacy_consents WHERE tenant_id = :t ORDER BY granted_at, id"
            ),
            {"t": tenant.tenant_id},
        ).all()
    return [
        PrivacyConsent(r.id, r.tenant_id, r.customer_id, r.booking_id, r.notice_version, _aware(r.granted_at),
                       ConsentChannel(r.channel))
        for r in rows
    ]  # fmt: skip


def _aware(value: datetime | str) -> datetime:
    """SQLite returns the stored UTC text, PostgreSQL an aware timestamp."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert value.tzinfo is not None
    return value


def _count(platform: Platform, table: str) -> int:
    with platform.database.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def _booking(platform: Platform, tenant: TenantFixture, booking_id: str) -> tuple[str, datetime]:
    with platform.uow(tenant.tenant_id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
    assert booking is not None and booking.customer_id is not None
    return booking.customer_id, booking.created_at


def _web_form(client: TestClient, tenant: TenantFixture, barber: str) -> dict[str, str]:
    slots = client.get("/reservar", params={"local": tenant.shop_id, "servicio": tenant.service_id, "barbero": barber})
    start = next(s for s in slot_values(slots.text) if s[11:16] >= "10:00")
    return details_form(client, tenant.shop_id, tenant.service_id, barber, start)


def _api_body(tenant: TenantFixture, start: str, **extra: object) -> dict[str, object]:
    return {"shop_id": tenant.shop_id, "service_id": tenant.service_id, "barber_id": tenant.barber_ids[0],
            "start": start, "customer": ANA, **extra}  # fmt: skip


def _owner(platform: Platform, tenant: TenantFixture) -> Context:
    return Context(tenant.tenant_id, Actor(ActorKind.STAFF, tenant.owner_id, Role.OWNER), "test", platform.clock.now())


def test_web_booking_with_the_checkbox_records_one_consent_and_a_replay_adds_none(
    client: TestClient, platform: Platform, alpha: TenantFixture
) -> None:
    form = _web_form(client, alpha, alpha.barber_ids[0])
    done = client.post("/reservar", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    booking_id = done.headers["location"].split("/")[2].split("?")[0]
    customer_id, created_at = _booking(platform, alpha, booking_id)
    [consent] = _consents(platform, alpha)
    assert consent.booking_id == booking_id and consent.customer_id == customer_id
    assert consent.channel is ConsentChannel.WEB and consent.granted_at == created_at
    assert consent.notice_version == current_notice_version() == notice_version(privacy_notice.notice_source())
    # The same form sent again (double click, back button): the same booking, still one consent.
    again = client.post("/reservar", data=form, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].split("/")[2].split("?")[0] == booking_id
    assert len(_consents(platform, alpha)) == 1 and _count(platform, "bookings") == 1
    with platform.uow(alpha.tenant_id, write=False) as uow:
        recorded = uow.audit.list(entity_id=customer_id, action="PrivacyConsentRecorded")
    assert len(recorded) == 1 and recorded[0].after is not None
    assert set(recorded[0].after) == {"id", "tenant_id", "customer_id", "booking_id", "notice_version",
                                      "granted_at", "channel"}  # fmt: skip  # ids only: no name, phone, e-mail


def test_web_booking_without_the_checkbox_books_nothing_and_records_nothing(
    client: TestClient, platform: Platform, alpha: TenantFixture
) -> None:
    form = _web_form(client, alpha, "cualquiera")
    refused = client.post("/reservar", data={k: v for k, v in form.items() if k != "consentimiento"})
    assert refused.status_code == 422 and "aviso de privacidad" in refused.text
    assert _count(platform, "bookings") == 0 and _count(platform, "privacy_consents") == 0


def test_the_loser_of_a_slot_race_leaves_no_consent(platform: Platform, alpha: TenantFixture) -> None:
    start = datetime.fromisoformat("2026-03-03T10:00:00-03:00")
    contenders = 6
    barrier = threading.Barrier(contenders)

    def attempt(index: int) -> str:
        customer = CustomerDetails(f"Cliente {index}", f"+54 9 11 4{index:03d}-{index:04d}", f"c{index}@example.com")
        cmd = BookAppointment(alpha.shop_id, alpha.service_id, alpha.barber_ids[0], start, customer,
                              consent=ConsentGiven("v-test", ConsentChannel.API))  # fmt: skip
        ctx = Context(alpha.tenant_id, Actor(ActorKind.CUSTOMER), f"race-{index}", platform.clock.now())
        barrier.wait()
        try:
            return book_appointment(platform.uow(alpha.tenant_id), ctx, cmd).booking.id
        except SlotUnavailable:
            return "lost"

    with ThreadPoolExecutor(max_workers=contenders) as pool:
        outcomes = list(pool.map(attempt, range(contenders)))
    winners = [o for o in outcomes if o != "lost"]
    assert len(winners) == 1 and outcomes.count("lost") == contenders - 1
    assert [c.booking_id for c in _consents(platform, alpha)] == winners
    assert _count(platform, "bookings") == 1


def test_api_flag_records_a_consent_with_channel_api_only_when_true(
    client: TestClient, platform: Platform, alpha: TenantFixture
) -> None:
    accepted = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                                privacy_notice_accepted=True),
                           headers={"Idempotency-Key": "consent-1"})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    [consent] = _consents(platform, alpha)
    assert consent.booking_id == accepted.json()["id"] and consent.channel is ConsentChannel.API
    assert consent.notice_version == current_notice_version()
    replay = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                              privacy_notice_accepted=True),
                         headers={"Idempotency-Key": "consent-1"})  # fmt: skip
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert len(_consents(platform, alpha)) == 1
    # The same key with the consent taken away is another request, not a replay.
    changed = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00"),
                          headers={"Idempotency-Key": "consent-1"})  # fmt: skip
    assert changed.status_code == 422 and changed.headers["content-type"] == PROBLEM
    for start, flag in (
        ("2026-03-03T11:00:00-03:00", {}),
        ("2026-03-03T12:00:00-03:00", {"privacy_notice_accepted": False}),
    ):
        plain = client.post("/api/v1/bookings", json=_api_body(alpha, start, **flag))
        assert plain.status_code == 201, plain.text
    assert len(_consents(platform, alpha)) == 1 and _count(platform, "bookings") == 3
    # A taken slot through the API: no booking, no consent.
    clash = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                             privacy_notice_accepted=True))  # fmt: skip
    assert clash.status_code == 409 and len(_consents(platform, alpha)) == 1


@pytest.mark.parametrize("value", ["yes", "true", 1, None, [True], {"accepted": True}])
def test_api_flag_of_the_wrong_type_is_a_problem_naming_the_field(
    client: TestClient, platform: Platform, alpha: TenantFixture, value: object
) -> None:
    response = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                                privacy_notice_accepted=value))  # fmt: skip
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert "privacy_notice_accepted" in {e["field"] for e in response.json()["errors"]}, response.json()
    assert _count(platform, "bookings") == 0 and _count(platform, "privacy_consents") == 0


def test_openapi_describes_the_field(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BookingIn"]
    assert schema["properties"]["privacy_notice_accepted"]["type"] == "boolean"
    assert "privacy_notice_accepted" not in schema.get("required", [])


def test_export_lists_the_consents_oldest_first_in_buenos_aires_time(
    client: TestClient, platform: Platform, alpha: TenantFixture
) -> None:
    first = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                             privacy_notice_accepted=True))  # fmt: skip
    assert first.status_code == 201, first.text
    platform.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    second_form = _web_form(client, alpha, alpha.barber_ids[1])
    second = client.post("/reservar", data=second_form, follow_redirects=False)
    assert second.status_code == 303, second.text
    second_id = second.headers["location"].split("/")[2].split("?")[0]
    customer_id, _ = _booking(platform, alpha, first.json()["id"])
    assert _booking(platform, alpha, second_id)[0] == customer_id  # same phone: same customer
    exported = client.get(f"/api/v1/staff/customers/{customer_id}/export",
                          headers=staff_headers(client, alpha.owner_email))  # fmt: skip
    assert exported.status_code == 200, exported.text
    version = current_notice_version()
    assert exported.json()["consentimientos"] == [
        {"fecha": "2026-03-02T09:00:00-03:00", "version_del_aviso": version, "canal": "api",
         "turno_id": first.json()["id"]},
        {"fecha": "2026-03-02T09:05:00-03:00", "version_del_aviso": version, "canal": "web",
         "turno_id": second_id},
    ]  # fmt: skip


def test_another_tenant_cannot_read_or_cross_a_consent(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture
) -> None:
    made = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                            privacy_notice_accepted=True))  # fmt: skip
    assert made.status_code == 201, made.text
    customer_id, _ = _booking(platform, alpha, made.json()["id"])
    # Beta's repository, asked for alpha's customer, sees nothing; beta's export does not find them.
    with platform.uow(beta.tenant_id, write=False) as uow:
        assert uow.consents.of_customer(customer_id) == []
    with platform.uow(alpha.tenant_id, write=False) as uow:
        assert [c.booking_id for c in uow.consents.of_customer(customer_id)] == [made.json()["id"]]
    beta_owner = staff_headers(client, beta.owner_email, "beta.example.com")
    cross = client.get(f"/api/v1/staff/customers/{customer_id}/export",
                       headers={**beta_owner, "host": "beta.example.com"})  # fmt: skip
    assert cross.status_code == 404 and made.json()["id"] not in cross.text
    with pytest.raises(Exception, match="not found"):
        export_customer_data(SqlPaymentsUnitOfWork(platform.database, beta.tenant_id), _owner(platform, beta),
                             customer_id)  # fmt: skip
    # A consent written through beta's repository is beta's, whatever tenant the entity names:
    # it never lands among alpha's consents.
    unconsented = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T11:00:00-03:00"))
    assert unconsented.status_code == 201, unconsented.text
    forged = PrivacyConsent(new_id(), alpha.tenant_id, customer_id, unconsented.json()["id"], "forged",
                            platform.clock.now(), ConsentChannel.API)  # fmt: skip
    with platform.uow(beta.tenant_id) as uow:
        uow.consents.add(forged)
        uow.commit()
    assert [c.booking_id for c in _consents(platform, alpha)] == [made.json()["id"]]
    with platform.uow(alpha.tenant_id, write=False) as uow:
        assert [c.notice_version for c in uow.consents.of_customer(customer_id)] == [current_notice_version()]
    with platform.database.engine.connect() as connection:
        owner = connection.execute(text("SELECT tenant_id FROM privacy_consents WHERE id = :i"), {"i": forged.id})
        assert owner.scalar_one() == beta.tenant_id


def test_row_level_security_hides_consents_from_another_tenant(
    client: TestClient, platform: Platform, alpha: TenantFixture, beta: TenantFixture
) -> None:
    if platform.database.dialect != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    made = client.post("/api/v1/bookings", json=_api_body(alpha, "2026-03-03T10:00:00-03:00",
                                                            privacy_notice_accepted=True))  # fmt: skip
    assert made.status_code == 201, made.text
    customer_id, _ = _booking(platform, alpha, made.json()["id"])
    with platform.uow(beta.tenant_id, write=False) as uow:
        connection = uow.consents._c  # type: ignore[attr-defined]
        # A query that forgot its tenant filter still sees only beta's rows: none.
        assert connection.execute(text("SELECT count(*) FROM privacy_consents")).scalar() == 0
    with platform.uow(alpha.tenant_id, write=False) as uow:
        connection = uow.consents._c  # type: ignore[attr-defined]
        assert connection.execute(text("SELECT count(*) FROM privacy_consents")).scalar() == 1
    with platform.uow(beta.tenant_id) as uow:
        connection = uow.consents._c  # type: ignore[attr-defined]
        updated = connection.execute(text("UPDATE privacy_consents SET notice_version = 'forged'"))
        assert updated.rowcount == 0
        with pytest.raises(Exception, match="row-level security"):
            connection.execute(
                text(
                    "INSERT INTO privacy_consents "
                    "(id, tenant_id, customer_id, booking_id, notice_version, granted_at, channel) "
                    "VALUES (:i, :t, :c, :b, 'v', now(), 'api')"
                ),
                {"i": new_id(), "t": alpha.tenant_id, "c": customer_id, "b": made.json()["id"]},
            )
    assert [c.notice_version for c in _consents(platform, alpha)] == [current_notice_version()]


def test_migration_creates_the_table_with_its_customer_index(platform: Platform) -> None:
    inspector = inspect(platform.database.engine)
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("privacy_consents")}
    assert indexes["ix_privacy_consents_tenant_customer"] == ["tenant_id", "customer_id"]
    columns = {c["name"] for c in inspector.get_columns("privacy_consents")}
    assert columns == {"id", "tenant_id", "customer_id", "booking_id", "notice_version", "granted_at", "channel"}


def test_the_notice_version_follows_the_notice_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = privacy_notice.notice_source()
    assert "Aviso de privacidad (Ley 25.326)" in source  # the notice the booking form shows
    assert notice_version(source) == current_notice_version()
    assert len(current_notice_version()) == 12 and int(current_notice_version(), 16) >= 0
    assert notice_version(source + " ") != notice_version(source)
    assert notice_version(source.replace("voluntario", "obligatorio")) != notice_version(source)
    # Another text read by the helper gives another version (the cache is per process, so clear it).
    with monkeypatch.context() as patched:
        patched.setattr(privacy_notice, "notice_source", lambda: source.replace("e-mail", "correo"))
        privacy_notice.current_notice_version.cache_clear()
        assert privacy_notice.current_notice_version() != notice_version(source)
    privacy_notice.current_notice_version.cache_clear()
    assert current_notice_version() == notice_version(source)


def test_a_consent_is_utc_with_a_known_channel_and_a_version() -> None:
    local = datetime.fromisoformat("2026-03-02T09:00:00-03:00")
    consent = PrivacyConsent("c", "t", "cu", "b", "abc", local, "web")  # type: ignore[arg-type]
    assert consent.granted_at == local and consent.granted_at.utcoffset() == timedelta(0)
    assert consent.channel is ConsentChannel.WEB
    for bad in ({"granted_at": datetime(2026, 3, 2, 12)}, {"channel": "phone"}, {"notice_version": ""}):
        fields = {"granted_at": local, "channel": "api", "notice_version": "abc"} | bad
        with pytest.raises(InvalidValue) as refused:
            PrivacyConsent("c", "t", "cu", "b", **fields)  # type: ignore[arg-type]
        assert refused.value.field == next(iter(bad))
