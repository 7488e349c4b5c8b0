"""Money, contact data, the booking life-cycle and its policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from barberpro.application.manage_tokens import issue_manage_token, verify_manage_token
from barberpro.application.pagination import decode_cursor, encode_cursor
from barberpro.domain.booking import Actor, ActorKind, Booking, BookingStatus, Review, Role
from barberpro.domain.customers import normalise_email, normalise_phone
from barberpro.domain.errors import InvalidTransition, InvalidValue, PermissionDenied, PolicyViolation
from barberpro.domain.money import ars, format_ars
from barberpro.domain.tenancy import BookingPolicy, Service, validate_theme

START = datetime(2026, 3, 3, 13, tzinfo=UTC)
CUSTOMER = Actor(ActorKind.CUSTOMER, "c1")
OWNER = Actor(ActorKind.STAFF, "u1", Role.OWNER)
POLICY = BookingPolicy(customer_change_cutoff=timedelta(hours=2))


def booking(**changes: object) -> Booking:
    values: dict[str, object] = dict(
        id="b1",
        tenant_id="t",
        shop_id="s",
        barber_id="barber-1",
        service_id="svc",
        customer_id="c1",
        start=START,
        end=START + timedelta(minutes=30),
        blocks_until=START + timedelta(minutes=40),
        status=BookingStatus.CONFIRMED,
        price=Decimal("12000.00"),
        created_at=START - timedelta(days=1),
    )
    values.update(changes)
    return Booking(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("12345.5"), "$ 12.345,50"),
        (Decimal("0"), "$ 0,00"),
        (Decimal("999.999"), "$ 1.000,00"),
        (Decimal("1234567.89"), "$ 1.234.567,89"),
    ],
)
def test_ars_formatting(amount: Decimal, shown: str) -> None:
    assert format_ars(amount) == shown


def test_money_refuses_floats_and_negatives() -> None:
    assert ars("10.005") == Decimal("10.00")  # banker's rounding
    with pytest.raises(InvalidValue):
        ars(-1)
    with pytest.raises(InvalidValue):
        ars(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        ars("NaN")


@pytest.mark.parametrize("raw", ["+54 9 11 2345-6789", "011 15-2345-6789", "+5491123456789", "11 15 2345 6789"])
def test_argentine_mobiles_keep_the_nine(raw: str) -> None:
    assert normalise_phone(raw) == "+5491123456789"


def test_cordoba_mobile_and_bad_numbers() -> None:
    assert normalise_phone("0351 15-555-1234") == "+5493515551234"
    for bad in ("12", "abc", "+54 11"):
        with pytest.raises(InvalidValue) as error:
            normalise_phone(bad)
        assert error.value.field == "customer.phone"
    assert normalise_email("Ana@Example.COM") == "Ana@example.com"
    with pytest.raises(InvalidValue):
        normalise_email("no-at-sign")


def test_life_cycle_transitions() -> None:
    confirmed = booking()
    with pytest.raises(PolicyViolation):
        confirmed.mark_completed(OWNER, START - timedelta(minutes=1))
    done = confirmed.mark_completed(OWNER, START + timedelta(minutes=31))
    assert done.status is BookingStatus.COMPLETED and done.version == 2
    with pytest.raises(InvalidTransition):
        done.cancel(OWNER, START, POLICY)
    with pytest.raises(InvalidTransition):
        booking(status=BookingStatus.PENDING_PAYMENT).mark_no_show(OWNER, START + timedelta(hours=1))
    assert booking(status=BookingStatus.PENDING_PAYMENT).confirm().status is BookingStatus.CONFIRMED
    with pytest.raises(PermissionDenied):
        confirmed.mark_completed(CUSTOMER, START + timedelta(hours=1))


def test_customer_cutoff_and_barber_scope() -> None:
    assert booking().cancel(CUSTOMER, START - timedelta(hours=3), POLICY).status is BookingStatus.CANCELLED
    with pytest.raises(PolicyViolation):
        booking().cancel(CUSTOMER, START - timedelta(hours=1), POLICY)
    assert booking().cancel(OWNER, START - timedelta(minutes=5), POLICY).status is BookingStatus.CANCELLED
    other_barber = Actor(ActorKind.STAFF, "u2", Role.BARBER, barber_id="barber-2")
    with pytest.raises(PermissionDenied):
        booking().cancel(other_barber, START - timedelta(hours=5), POLICY)
    own = Actor(ActorKind.STAFF, "u3", Role.BARBER, barber_id="barber-1")
    assert booking().cancel(own, START - timedelta(hours=5), POLICY).status is BookingStatus.CANCELLED


def test_reviews_only_for_completed_visits() -> None:
    with pytest.raises(PolicyViolation):
        Review.for_booking(id="r", booking=booking(), rating=5, text="", now=START)
    done = booking(status=BookingStatus.COMPLETED)
    with pytest.raises(InvalidValue):
        Review.for_booking(id="r", booking=done, rating=0, text="", now=START)
    assert Review.for_booking(id="r", booking=done, rating=4, text="  bien ", now=START).text == "bien"


def test_service_and_theme_validation() -> None:
    with pytest.raises(InvalidValue):
        Service("s", "t", "shop", "Corte", timedelta(minutes=2), Decimal("1"))
    assert Service("s", "t", "shop", "Corte", timedelta(minutes=30), Decimal("10.5")).price == Decimal("10.50")
    with pytest.raises(InvalidValue) as error:
        validate_theme({"primary": "red"})
    assert error.value.field == "theme.primary"
    with pytest.raises(InvalidValue, match="before end"):
        booking(end=START)


def test_manage_tokens_and_cursors() -> None:
    secret = b"k" * 32
    token = issue_manage_token(secret, "tenant", "booking")
    assert verify_manage_token(secret, "tenant", "booking", token)
    assert not verify_manage_token(secret, "other-tenant", "booking", token)
    assert not verify_manage_token(secret, "tenant", "booking2", token)
    assert not verify_manage_token(b"x" * 32, "tenant", "booking", token)
    assert not verify_manage_token(secret, "tenant", "booking", token[:-1] + "A")
    moment = datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, "id-1")) == (moment, "id-1")
    for bad in ("!!", "e30", "WyJ4Il0"):
        with pytest.raises(InvalidValue):
            decode_cursor(bad)
