"""MercadoPago webhook signatures: what verifies, and that any change to a signed part does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from barberpro.adapters.payments.webhook_signature import (
    InvalidSignature,
    manifest,
    parse_signature,
    sign,
    signature_header,
    verify,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
ids = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=20)
request_ids = st.uuids().map(str)
secrets = st.text(min_size=8, max_size=64).filter(lambda s: s.strip() == s and "," not in s)


def test_manifest_matches_mercadopagos_template() -> None:
    assert manifest("123456", "bb56a2f1-6aae", "1704908010") == "id:123456;request-id:bb56a2f1-6aae;ts:1704908010;"
    assert manifest("ABC", None, "1") == "id:abc;ts:1;"  # alphanumeric ids are signed in lower case
    assert parse_signature("ts=1704908010, v1=abc").v1 == "abc"


@given(secret=secrets, data_id=ids, request_id=request_ids)
def test_a_genuine_signature_verifies(secret: str, data_id: str, request_id: str) -> None:
    header = signature_header(secret, data_id, request_id, TS)
    assert verify(secret, header, data_id=data_id, request_id=request_id, now=NOW).ts == TS


@given(secret=secrets, data_id=ids, other=ids, request_id=request_ids, other_request=request_ids)
def test_changing_any_signed_part_is_refused(
    secret: str, data_id: str, other: str, request_id: str, other_request: str
) -> None:
    header = signature_header(secret, data_id, request_id, TS)
    if other.lower() != data_id.lower():
        with pytest.raises(InvalidSignature):
            verify(secret, header, data_id=other, request_id=request_id, now=NOW)
    if other_request != request_id:
        with pytest.raises(InvalidSignature):
            verify(secret, header, data_id=data_id, request_id=other_request, now=NOW)
    with pytest.raises(InvalidSignature):
        verify(secret + "x", header, data_id=data_id, request_id=request_id, now=NOW)
    forged_ts = f"ts={int(TS) + 1},v1={sign(secret, data_id, request_id, TS)}"
    with pytest.raises(InvalidSignature):
        verify(secret, forged_ts, data_id=data_id, request_id=request_id, now=NOW)


@pytest.mark.parametrize("age", [timedelta(minutes=6), -timedelta(minutes=6), timedelta(days=1)])
def test_old_or_future_timestamps_are_refused(age: timedelta) -> None:
    ts = str(int((NOW - age).timestamp()))
    header = signature_header("s3cret-value", "1", "r", ts)
    with pytest.raises(InvalidSignature, match="window"):
        verify("s3cret-value", header, data_id="1", request_id="r", now=NOW)
    assert verify("s3cret-value", header, data_id="1", request_id="r", now=NOW - age)


def test_milliseconds_timestamps_are_understood() -> None:
    ts = str(int(NOW.timestamp() * 1000))
    assert verify("s3cret-value", signature_header("s3cret-value", "9", "r", ts), data_id="9", request_id="r", now=NOW)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "ts=1", "garbage"])
def test_malformed_headers_and_missing_secret_are_refused(header: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify("s3cret-value", header, data_id="1", request_id="r", now=NOW)
    with pytest.raises(InvalidSignature):
        verify("", signature_header("", "1", "r", TS), data_id="1", request_id="r", now=NOW)
