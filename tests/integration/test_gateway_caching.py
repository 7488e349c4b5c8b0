"""Read cache and HTTP caching over the real app, including the stale-slot bound."""

from __future__ import annotations

import gzip
import time
import uuid
from datetime import UTC, datetime

import brotli
import pytest
from gateway_support import availability, booking_body, gateway_client, redis_url

from barberpro.adapters.kv.redis_store import RedisStore
from barberpro.application import bookings as usecases
from barberpro.application.context import Context
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind
from platform_fixtures import TenantFixture, make_platform

SLOT = "2026-03-03T10:00:00-03:00"


def _starts(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {s["start"] for s in response.json()["slots"]}


def _book_directly(platform: Platform, t: TenantFixture, start: str) -> None:
    """A write that does not pass through this HTTP process (another replica, a worker)."""
    ctx = Context(t.tenant_id, Actor(ActorKind.CUSTOMER, None), "test", platform.clock.now())
    usecases.book_appointment(
        platform.uow(t.tenant_id),
        ctx,
        usecases.BookAppointment(
            shop_id=t.shop_id,
            service_id=t.service_id,
            barber_id=t.barber_ids[0],
            start=datetime.fromisoformat(start).astimezone(UTC),
            customer=usecases.CustomerDetails(name="Otro", phone="+54 9 11 4555-0101", email="otro@example.com"),
            notes="",
            kind="appointment",
        ),
    )


def test_etag_revalidation_and_cache_control(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        while platform.relay.run_once():
            pass
        first = availability(client, alpha)
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        assert first.headers["cache-control"] == "public, no-cache"  # a CDN revalidates slots
        again = client.get(
            f"/api/v1/shops/{alpha.shop_id}/availability",
            params={"service_id": alpha.service_id, "date": "2026-03-03", "barber_id": alpha.barber_ids[0]},
            headers={"if-none-match": etag},
        )
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        shops = client.get("/api/v1/shops")
        assert shops.headers["cache-control"].startswith("public, max-age=")
        assert "Accept-Encoding" in shops.headers["vary"]
        token = client.post(
            "/api/v1/auth/tokens", json={"email": alpha.owner_email, "password": "correct horse battery"}
        ).json()["token"]
        staff = client.get("/api/v1/shops", headers={"authorization": f"Bearer {token}"})
        assert staff.headers["cache-control"] == "private, no-cache"


def test_compression_gzip_and_brotli(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        plain = availability(client, alpha, **{"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers and len(plain.content) > 1024
        zipped = client.get(
            f"/api/v1/shops/{alpha.shop_id}/availability",
            params={"service_id": alpha.service_id, "date": "2026-03-03", "barber_id": alpha.barber_ids[0]},
            headers={"accept-encoding": "gzip"},
            extensions={},
        )
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == plain.content  # httpx decodes: same document
        assert int(zipped.headers["content-length"]) < len(plain.content) / 3
        raw = client.get("/openapi.json", headers={"accept-encoding": "br"})
        assert raw.headers["content-encoding"] == "br"
    assert gzip.compress(b"") and brotli.decompress(brotli.compress(b"ok")) == b"ok"


def test_booking_through_this_process_is_never_offered_again(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        assert SLOT in _starts(availability(client, alpha))
        created = client.post("/api/v1/bookings", json=booking_body(alpha, SLOT, 1))
        assert created.status_code == 201
        # Invalidated before the booking's answer left: bound 0 for the writer's own process.
        assert SLOT not in _starts(availability(client, alpha))


def test_write_elsewhere_disappears_within_the_relay_bound(platform: Platform, alpha: TenantFixture) -> None:
    bound = platform.settings.outbox_poll_seconds  # 0.05 s in tests; 0.5 s by default
    with gateway_client(platform) as client:
        while platform.relay.run_once():  # publish the set-up's own events first
            pass
        assert SLOT in _starts(availability(client, alpha))
        assert SLOT in _starts(availability(client, alpha))  # now served from the cache
        cache = client.app.state.read_cache
        assert cache.stats.hits >= 1
        _book_directly(platform, alpha, SLOT)
        written = time.monotonic()
        while True:  # a stale answer to a request sent after the bound is a violation
            asked = time.monotonic()
            if SLOT not in _starts(availability(client, alpha)):
                break
            assert asked - written < bound + 0.5, "stale slot offered past the bound"
            time.sleep(0.005)
        assert cache.stats.invalidations >= 1


@pytest.mark.redis
def test_replicas_sharing_redis_see_a_write_within_the_bound(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from platform_fixtures import make_tenant

    url = redis_url()
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    one = make_platform(database_url, tmp_path / "one")
    two = make_platform(database_url, tmp_path / "two")
    alpha = make_tenant(one, "alpha")
    for platform in (one, two):
        platform.extras["kv"] = RedisStore(url, prefix=prefix)
    try:
        with gateway_client(one) as writer, gateway_client(two) as reader:
            # Publish the set-up's own events first (both share one database): a relay bumping the
            # generation between the two reads below would turn the second one into a miss.
            while one.relay.run_once():
                pass
            assert SLOT in _starts(availability(reader, alpha))
            assert SLOT in _starts(availability(reader, alpha))
            assert writer.post("/api/v1/bookings", json=booking_body(alpha, SLOT, 1)).status_code == 201
            written = time.monotonic()
            while True:
                asked = time.monotonic()
                if SLOT not in _starts(availability(reader, alpha)):
                    break
                assert asked - written < 0.5 + 0.1, "stale slot past the generation bound"
                time.sleep(0.01)
            assert reader.app.state.read_cache.stats.l2_hits + reader.app.state.read_cache.stats.hits >= 1
    finally:
        one.close()
        two.close()


def test_fast_path_answers_hits_and_keeps_route_metrics(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        while platform.relay.run_once():
            pass
        first = availability(client, alpha)
        cache = client.app.state.read_cache
        misses = cache.stats.misses
        second = availability(client, alpha)
        assert second.content == first.content and cache.stats.misses == misses
        assert second.headers["etag"] == first.headers["etag"]  # still through the HTTP cache layer
        assert "ratelimit" in second.headers  # and through the rate limiter
        metrics = client.get("/metrics").text
    template = 'route="/api/v1/shops/{shop_id}/availability",status="200"'
    assert f'barberpro_http_requests_total{{method="GET",{template}}} 2.0' in metrics


def test_static_assets_keep_their_validator_and_are_compressed(platform: Platform, alpha: TenantFixture) -> None:
    with gateway_client(platform) as client:
        plain = client.get("/assets/app.css", headers={"accept-encoding": "identity"})
        if plain.status_code == 404:
            pytest.skip("this build serves no static assets")
        assert plain.headers.get_list("etag") == [plain.headers["etag"]]  # one validator, the route's
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = client.get("/assets/app.css", headers={"if-none-match": plain.headers["etag"]})
        assert again.status_code == 304
        if len(plain.content) >= 1024:
            zipped = client.get("/assets/app.css", headers={"accept-encoding": "br"})
            assert zipped.headers["content-encoding"] == "br"
