"""Route classes and policy configuration."""

from __future__ import annotations

import pytest

from barberpro.ops.gateway.policies import PolicyBook, RouteClass, classify, parse_policy


@pytest.mark.parametrize(
    ("method", "path", "credentials", "expected"),
    [
        ("GET", "/healthz", False, RouteClass.OPS),
        ("GET", "/api/v1/shops", False, RouteClass.PUBLIC),
        ("POST", "/api/v1/bookings", False, RouteClass.BOOKING),
        ("POST", "/api/v1/bookings/x/cancel", False, RouteClass.BOOKING),
        ("POST", "/api/v1/auth/tokens", False, RouteClass.LOGIN),
        ("POST", "/api/v1/auth/tokens", True, RouteClass.LOGIN),
        ("POST", "/api/v1/webhooks/mercadopago", False, RouteClass.WEBHOOK),
        ("POST", "/api/v1/bookings", True, RouteClass.STAFF),
    ],
)
def test_classify(method: str, path: str, credentials: bool, expected: RouteClass) -> None:
    assert classify(method, path, credentials) is expected


def test_plans_scale_and_overrides_apply() -> None:
    book = PolicyBook(tenant_plans={"navaja": "pro"}, overrides={"booking-ip": "3/60/2"})
    standard = book.for_request("demo.barberpro.localhost", RouteClass.PUBLIC)
    pro = book.for_request("navaja.barberpro.localhost", RouteClass.PUBLIC)
    assert standard is not None and pro is not None
    assert standard.per_ip is not None and pro.per_ip is not None
    assert pro.per_ip.limit == 4 * standard.per_ip.limit
    booking = book.for_request("demo.barberpro.localhost", RouteClass.BOOKING)
    assert booking is not None and booking.per_ip is not None
    assert (booking.per_ip.limit, booking.per_ip.period, booking.per_ip.capacity) == (3, 60.0, 2)
    assert book.for_request("x", RouteClass.OPS) is None


def test_bad_policy_spec() -> None:
    with pytest.raises(ValueError):
        parse_policy("p", "100")
