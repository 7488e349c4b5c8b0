"""Web pages: server time of the public shop page and the availability step, and page weight.

Seeds the demo tenants (`barberpro demo` data: "demo" has 2 shops x 3 barbers, 6 services,
~45 days of bookings) into a fresh database, then drives the ASGI app in-process, one request
at a time, timing each request inside the server (from the first byte of the request entering
the app, middleware included, to the last byte of the response leaving it; no network, no
client). In the same run it times the yardsticks:
- `GET /hello` (same app, same middleware, no work),
- `GET /api/v1/shops/{id}/availability` (the same read as JSON; the API serves it from the
  gateway's read cache, the page computes it every time),
- the `find_availability` use case called directly (database + slot computation, no HTTP).
Page weight is the HTML of each page plus the CSS and JS they load (no images are used),
uncompressed and gzip-compressed.

    .venv/bin/python benchmarks/web_pages.py [--requests 400] [--postgres-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
P95_LIMIT_MS = 30.0
WEIGHT_LIMIT_KB = 100.0


class ServerTimer:
    """ASGI wrapper: records how long the app took for each request, send included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.samples.append((time.perf_counter() - started) * 1000)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
    }


def make_platform(database_url: str, var_dir: str) -> Any:
    from barberpro.bootstrap import build, migrate
    from barberpro.config import Settings

    settings = Settings(database_url=database_url, var_dir=var_dir, secret_key="b" * 40, default_tenant="demo",
                        log_level="WARNING", rate_limit_enabled=False)  # fmt: skip
    migrate(settings)
    return build(settings)


async def measure(platform: Any, requests: int) -> dict[str, Any]:
    from barberpro.application.availability import find_availability
    from barberpro.entrypoints.cli.demo_data import seed_demo
    from barberpro.entrypoints.http.app import create_app

    seed_demo(platform)
    tenant = platform.directory.tenant_by_slug("demo")
    with platform.uow(tenant.id, write=False) as uow:
        shop = uow.shops.list()[0]
        service = uow.services.list(shop.id)[0]
    today = platform.clock.now().astimezone(shop.zone).date()
    # A Tuesday (every demo barber works Tuesday to Saturday), at least two days ahead.
    day = today + timedelta(days=2)
    while day.weekday() != 1:
        day += timedelta(days=1)
    timer = ServerTimer(create_app(platform=platform))
    transport = httpx.ASGITransport(app=timer)
    targets = {
        "hello (yardstick)": "/hello",
        "availability JSON API, gateway read cache (yardstick)": f"/api/v1/shops/{shop.id}/availability?"
        f"service_id={service.id}"
        f"&date={day.isoformat()}",
        "shop page /": "/",
        "availability step /reservar": f"/reservar?local={shop.id}&servicio={service.id}&barbero=cualquiera"
        f"&fecha={day.isoformat()}",
        "availability fragment (JS day switch)": f"/reservar?local={shop.id}&servicio={service.id}"
        f"&barbero=cualquiera&fecha={day.isoformat()}&parcial=1",
    }
    results: dict[str, Any] = {}
    bodies: dict[str, bytes] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.barberpro.localhost") as client:
        for label, path in targets.items():
            for _ in range(30):  # warm-up: template compilation, caches, connection pool
                warm = await client.get(path)
                assert warm.status_code == 200, (path, warm.status_code, warm.text[:200])
            timer.samples.clear()
            for _ in range(requests):
                response = await client.get(path)
                assert response.status_code == 200
            bodies[label] = response.content
            results[label] = {"path": path.split("?")[0], "requests": requests, **summary(timer.samples)}
        slots = len(re.findall(rb'name="hora"', bodies["availability step /reservar"]))
        # The use case the availability page calls, alone (no HTTP, no template): its share of the page.
        usecase: list[float] = []
        for index in range(requests + 30):
            started = time.perf_counter()
            find_availability(platform.uow(tenant.id, write=False), shop_id=shop.id, service_id=service.id,
                              day=day, barber_id=None, now_utc=platform.clock.now())  # fmt: skip
            if index >= 30:
                usecase.append((time.perf_counter() - started) * 1000)
        results["find_availability use case alone (yardstick)"] = {"requests": requests, **summary(usecase)}
        css = (await client.get("/assets/app.css")).content
        js = (await client.get("/assets/app.js")).content
    weight = {}
    for label in ("shop page /", "availability step /reservar"):
        html = bodies[label]
        total = len(html) + len(css) + len(js)
        packed = len(gzip.compress(html)) + len(gzip.compress(css)) + len(gzip.compress(js))
        weight[label] = {"html_kb": round(len(html) / 1024, 1), "css_kb": round(len(css) / 1024, 1),
                         "js_kb": round(len(js) / 1024, 1), "total_kb": round(total / 1024, 1),
                         "total_gzip_kb": round(packed / 1024, 1),
                         "under_100_kb": total / 1024 < WEIGHT_LIMIT_KB}  # fmt: skip
    for label in ("shop page /", "availability step /reservar"):
        results[label]["p95_under_30_ms"] = results[label]["p95_ms"] < P95_LIMIT_MS
        results[label]["p50_vs_hello"] = round(results[label]["p50_ms"] / results["hello (yardstick)"]["p50_ms"], 1)
    return {"server_time": results, "page_weight": weight, "slots_on_availability_page": slots,
            "day": day.isoformat(), "shop": shop.name}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="timed requests per page")
    parser.add_argument("--postgres-url", default=None, help="also measure on this PostgreSQL (a new database)")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "web_pages", "python": sys.version.split()[0], "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        platform = make_platform(f"sqlite:///{tmp}/bench.db", tmp)
        try:
            report["databases"]["sqlite"] = asyncio.run(measure(platform, args.requests))
        finally:
            platform.close()
        if args.postgres_url:
            import psycopg
            from sqlalchemy.engine import make_url

            admin = args.postgres_url.replace("postgresql+psycopg://", "postgresql://")
            name = f"barberpro_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(admin).set(database=name).render_as_string(hide_password=False)
                platform = make_platform(url, tmp)
                try:
                    report["databases"]["postgresql"] = asyncio.run(measure(platform, args.requests))
                finally:
                    platform.close()
            finally:
                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
