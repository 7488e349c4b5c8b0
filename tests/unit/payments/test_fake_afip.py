"""The fake AFIP speaks WSFEv1 like the real one: numbering (10016), dates, VAT per class, 602 on unknown."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from barberpro.adapters.invoicing import soap
from barberpro.adapters.invoicing.certificates import DevAuthority, certificate_request, key_pem, new_key
from barberpro.adapters.invoicing.fake_afip.service import WSAA_PATH, FakeAfip
from barberpro.adapters.invoicing.wsaa import WSAA_NS, login_ticket_request, parse_login_response, sign_cms
from barberpro.adapters.invoicing.wsfe import WsfeClient
from barberpro.application.payment_ports import TaxAuthorityUnreachable, VoucherRequest

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CUIT = "20123456786"


@pytest.fixture(scope="module")
def parts() -> tuple[DevAuthority, bytes, bytes]:
    authority = DevAuthority.create(NOW - timedelta(days=1))
    key = new_key()
    certificate = authority.issue(certificate_request(key, cuit=CUIT, organization="Alpha", alias="bp"), NOW)
    return authority, certificate, key_pem(key)


def login(fake: FakeAfip, certificate: bytes, key: bytes) -> tuple[int, bytes]:
    cms = base64.b64encode(sign_cms(login_ticket_request("wsfe", NOW, 1), certificate, key)).decode()
    body = soap.envelope(f"<wsaa:loginCms>{soap.element('wsaa:in0', cms)}</wsaa:loginCms>", {"wsaa": WSAA_NS})
    return fake.respond(WSAA_PATH, "", body)


@pytest.fixture
def wsfe(parts: tuple[DevAuthority, bytes, bytes]) -> tuple[FakeAfip, WsfeClient]:
    authority, certificate, key = parts
    fake = FakeAfip(authority.certificate, clock=lambda: NOW)
    status, body = login(fake, certificate, key)
    assert status == 200
    ticket = parse_login_response(body)
    client = WsfeClient(
        cuit=CUIT, ticket=lambda: ticket, url="https://wswhomo.test/wsfev1/service.asmx", transport=fake.transport()
    )
    return fake, client


def voucher(number: int, *, kind: int = 11, day: date = date(2026, 3, 2), vat: str = "0.00") -> VoucherRequest:
    total = Decimal("12100.00")
    return VoucherRequest(3, kind, number, day, day, day, day, 99, "0", 5, total, total - Decimal(vat), Decimal(vat))


def test_second_login_while_a_ticket_is_valid_is_refused(parts: tuple[DevAuthority, bytes, bytes]) -> None:
    authority, certificate, key = parts
    fake = FakeAfip(authority.certificate, clock=lambda: NOW)
    assert login(fake, certificate, key)[0] == 200
    status, body = login(fake, certificate, key)
    assert status == 500
    with pytest.raises(soap.SoapFault, match="alreadyAuthenticated"):
        parse_login_response(body)


def test_numbering_dates_and_lookup(wsfe: tuple[FakeAfip, WsfeClient]) -> None:
    _, client = wsfe
    assert client.dummy() == {"AppServer": "OK", "DbServer": "OK", "AuthServer": "OK"}
    assert client.last_authorized(3, 11) == 0
    skipped = client.authorize(voucher(2))
    assert not skipped.approved and [o.code for o in skipped.observations] == [10016]
    first = client.authorize(voucher(1))
    assert first.approved and first.cae and first.cae_due == date(2026, 3, 12)
    assert client.last_authorized(3, 11) == 1
    earlier = client.authorize(voucher(2, day=date(2026, 3, 1)))  # before the last voucher's date
    assert [o.code for o in earlier.observations] == [10016]
    too_far = client.authorize(voucher(2, day=date(2026, 3, 20)))
    assert 10017 in [o.code for o in too_far.observations]
    with_vat = client.authorize(voucher(2, vat="2100.00"))  # a C voucher must not carry VAT
    assert 10071 in [o.code for o in with_vat.observations]
    found = client.lookup(3, 11, 1)
    assert found is not None and found.cae == first.cae and found.total == Decimal("12100.00")
    assert client.lookup(3, 11, 99) is None


def test_a_lost_answer_still_authorised_the_voucher(wsfe: tuple[FakeAfip, WsfeClient]) -> None:
    fake, client = wsfe
    fake.lose_answers = 1
    with pytest.raises(TaxAuthorityUnreachable):
        client.authorize(voucher(1))
    assert client.last_authorized(3, 11) == 1 and client.lookup(3, 11, 1) is not None


def test_wrong_credentials_are_refused(wsfe: tuple[FakeAfip, WsfeClient]) -> None:
    fake, _ = wsfe
    from barberpro.adapters.invoicing.wsfe import WsfeError
    from barberpro.application.payment_ports import LoginTicket

    forged = LoginTicket("token", "sign", NOW, NOW + timedelta(hours=1))
    client = WsfeClient(
        cuit=CUIT, ticket=lambda: forged, url="https://wswhomo.test/wsfev1/service.asmx", transport=fake.transport()
    )
    with pytest.raises(WsfeError, match="600"):
        client.last_authorized(3, 11)


def test_the_fake_is_served_over_http_for_development(parts: tuple[DevAuthority, bytes, bytes]) -> None:
    from starlette.testclient import TestClient

    from barberpro.adapters.invoicing.fake_afip.asgi import create_app
    from barberpro.adapters.invoicing.fake_afip.service import WSFE_PATH
    from barberpro.adapters.invoicing.wsfe import FE_NS

    with TestClient(create_app(FakeAfip(parts[0].certificate, clock=lambda: NOW))) as http:
        answer = http.post(
            WSFE_PATH,
            content=soap.envelope("<ar:FEDummy/>", {"ar": FE_NS}),
            headers={"SOAPAction": f'"{FE_NS}FEDummy"'},
        )
    assert answer.status_code == 200 and soap.text(soap.parse(answer.content), "AppServer") == "OK"


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(minutes=-5)])
def test_login_survives_a_few_minutes_of_clock_skew(parts: tuple[DevAuthority, bytes, bytes], ahead: timedelta) -> None:
    authority, certificate, key = parts
    fake = FakeAfip(authority.certificate, clock=lambda: NOW)
    cms = base64.b64encode(sign_cms(login_ticket_request("wsfe", NOW + ahead, 7), certificate, key)).decode()
    body = soap.envelope(f"<wsaa:loginCms>{soap.element('wsaa:in0', cms)}</wsaa:loginCms>", {"wsaa": WSAA_NS})
    status, answer = fake.respond(WSAA_PATH, "", body)
    assert status == 200 and parse_login_response(answer).expires_at > NOW
