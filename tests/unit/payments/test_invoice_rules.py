"""Invoice rules: CUIT/DNI check digits, voucher class, VAT split, the QR payload, CMS signatures, the fake's rules."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.ar import cuit as stdnum_cuit

from barberpro.adapters.invoicing.certificates import DevAuthority, certificate_request, cuit_of, key_pem, new_key
from barberpro.adapters.invoicing.fake_afip.cms_check import CmsRejected, verified_content
from barberpro.adapters.invoicing.printed_invoice import decode_qr_url, qr_url
from barberpro.adapters.invoicing.wsaa import login_ticket_request, sign_cms
from barberpro.application import invoicing
from barberpro.application.payment_ports import Invoice, InvoiceStatus, IvaCondition
from barberpro.domain.errors import InvalidValue

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
totals = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


@given(total=totals, kind=st.sampled_from([invoicing.FACTURA_A, invoicing.FACTURA_B, invoicing.FACTURA_C]))
def test_net_plus_vat_is_the_total_and_vat_is_21_percent(total: Decimal, kind: int) -> None:
    net, vat = invoicing.split_amounts(total, kind)
    assert net + vat == total
    if kind == invoicing.FACTURA_C:
        assert vat == 0
    else:
        assert abs(vat - net * Decimal("0.21")) <= Decimal("0.01")


@given(prefix=st.sampled_from(["20", "23", "27", "30", "33"]), dni=st.integers(1_000_000, 99_999_999))
def test_cuit_check_digit(prefix: str, dni: int) -> None:
    body = f"{prefix}{dni:08d}"
    valid = body + stdnum_cuit.calc_check_digit(body)
    assume(stdnum_cuit.is_valid(valid))
    assert invoicing.valid_cuit(valid) == valid
    wrong = body + str((int(stdnum_cuit.calc_check_digit(body)) + 1) % 10)
    with pytest.raises(InvalidValue):
        invoicing.valid_cuit(wrong)


def test_dni_and_receivers() -> None:
    assert invoicing.valid_dni("30.123.456") == "30123456"
    with pytest.raises(InvalidValue):
        invoicing.valid_dni("12")
    with pytest.raises(InvalidValue):  # a responsable inscripto needs a CUIT
        invoicing.Receiver.checked(doc_type=96, doc_number="30123456", iva_condition=1, name="X")
    assert invoicing.Receiver.checked(doc_type=99, doc_number="123", iva_condition=5, name="").doc_number == "0"


def test_voucher_class_follows_issuer_and_receiver() -> None:
    cf, ri = invoicing.Receiver(), invoicing.Receiver(80, "30500010912", invoicing.RECEIVER_RI, "SA")
    assert invoicing.voucher_type(IvaCondition.MONOTRIBUTO, ri) == invoicing.FACTURA_C
    assert invoicing.voucher_type(IvaCondition.RESPONSABLE_INSCRIPTO, ri) == invoicing.FACTURA_A
    assert invoicing.voucher_type(IvaCondition.RESPONSABLE_INSCRIPTO, cf) == invoicing.FACTURA_B


def test_qr_url_carries_afips_json() -> None:
    invoice = Invoice(
        "i1",
        "t1",
        "b1",
        "20123456786",
        3,
        6,
        InvoiceStatus.AUTHORIZED,
        date(2026, 3, 2),
        date(2026, 3, 3),
        date(2026, 3, 3),
        96,
        "30123456",
        5,
        "Ana",
        "Corte",
        Decimal("12100.00"),
        Decimal("10000.00"),
        Decimal("2100.00"),
        NOW,
        NOW,
        number=7,
        cae="76000000000001",
        cae_due=date(2026, 3, 12),
    )
    url = qr_url(invoice)
    assert url.startswith("https://www.afip.gob.ar/fe/qr/?p=")
    assert decode_qr_url(url) == invoicing.qr_payload(invoice)
    assert decode_qr_url(url)["importe"] == 12100.0 and decode_qr_url(url)["nroDocRec"] == 30123456


@pytest.fixture(scope="module")
def authority() -> DevAuthority:
    return DevAuthority.create(NOW - timedelta(days=1))


def test_cms_signature_round_trip_and_tampering(authority: DevAuthority) -> None:
    key = new_key()
    certificate = authority.issue(certificate_request(key, cuit="20123456786", organization="Alpha", alias="bp"), NOW)
    tra = login_ticket_request("wsfe", NOW, 1)
    der = sign_cms(tra, certificate, key_pem(key))
    content, signer = verified_content(der, authority.certificate, NOW)
    assert content == tra and cuit_of(signer) == "20123456786"
    tampered = der.replace(b"<service>wsfe</service>", b"<service>wsfx</service>")
    assert tampered != der
    with pytest.raises(CmsRejected):
        verified_content(tampered, authority.certificate, NOW)
    with pytest.raises(CmsRejected, match="expired"):
        verified_content(der, authority.certificate, NOW + timedelta(days=800))
    assert base64.b64encode(der)  # what travels in loginCms's in0
