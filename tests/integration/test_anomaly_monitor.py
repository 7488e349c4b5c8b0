"""Live monitor against the real BarberPro app: quiet in normal traffic, alerts on injected faults.

The server under test is ``barberpro.entrypoints.http.app.create_app`` on an embedded SQLite
database (one tenant, one shop, three barbers), served by uvicorn in a subprocess. A second
subprocess drives open-loop traffic at real endpoints, availability reads and booking attempts,
with a daily cycle (time compressed: one day = ``DAY_SECONDS``). The monitor scrapes the app's
own ``/metrics``.

Faults are injected inside the app, after routing, so the app's own metrics middleware measures
them under the real route templates: every matched route's handler is wrapped in a small ASGI
layer that can add a delay or answer 500. The test turns it on and off with
``POST /_test/faults`` (a route only this test server has).

The webhook receiver is a real local HTTP server that refuses the first delivery (to prove
the retry) and checks every signature.

Run this file as a script to start the pieces by hand:
``python test_anomaly_monitor.py serve PORT DIR`` and ``python test_anomaly_monitor.py traffic URL DIR DAY RATE``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

INTERVAL = 0.5  # seconds between scrapes
DAY_SECONDS = 10.0  # one synthetic day of traffic: 20 scrapes
# 25 days of samples before the monitor may alert. A novelty detector pages on a clear new record,
# and after n days of i.i.d. noise the next day holds the record with odds about 1 in n + 1: with
# 6 days the quiet day failed now and then on a latency mean a little past anything seen before.
# The noise is not i.i.d. either: with a day compressed into 10 s, a shared machine's slow spells
# (30-40 s of availability means 20-50 % higher) last several synthetic days. Replaying 60 days of
# the same server and traffic and judging every day after a warm-up: unpinned processes 3 of 44
# days raised an alert with 15 days of warm-up (3 of 34 with 25); with the server and the traffic
# on their own CPUs (below) 1 of 44 with 15 days and 0 of 34 with 25, always the availability mean.
WARMUP = 500
NORMAL_TICKS = 20  # a full day of normal traffic, trough and peak, must raise nothing
# Mean requests per second; the daily cycle swings it by +-40 %. Low enough to leave a 2-core
# machine headroom: at 50/s, beside a neighbour bursting on both cores, the server's threads waited
# for a CPU up to 1.8 s per scrape and queued requests (availability mean 10 -> 110 ms, a real
# record the monitor rightly reported, 2 of 7 runs); at 25/s beside the same neighbour they waited
# at most 0.2 s and the mean stayed under 14 ms. Still 20+ availability reads per window.
RATE = 25.0
# Seconds added to every API request by the latency regression. Latency is recorded when a
# request ends, so the mean over the last two scrape intervals rises most by the second scrape
# when the delay is about one interval.
LATENCY_ADDED = INTERVAL
# Rates and means over the last 4 scrapes (2 s): at half-second scrapes a one-interval window
# would judge the test machine's scheduling hiccups (a neighbour's burst slows every request for
# a moment); production scrapes every 15 s and keeps the default of 2.
WINDOW = 4
ERROR_RATE = 0.3  # share of requests answered 500 during the error burst
SECRET = "test-webhook-secret"
HOST = "alpha.example.com"
TESTS = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the app under test
def serve(port: int, workdir: Path) -> None:  # pragma: no cover - runs in a subprocess
    import asyncio
    import random

    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.middleware import Middleware
    from starlette.routing import Match

    # The latency the app reports should be its own, not a busy neighbour's: on a shared machine
    # the server under test runs at a higher priority where allowed (as root; else unchanged).
    with contextlib.suppress(OSError):
        os.nice(-5)
    sys.path.insert(0, str(TESTS))
    from barberpro.entrypoints.http.app import create_app
    from platform_fixtures import make_platform, make_tenant, sqlite_url

    platform = make_platform(sqlite_url(workdir), workdir)
    tenant = make_tenant(platform, "alpha")
    app: FastAPI = create_app(platform=platform)
    faults = {"delay": 0.0, "error_rate": 0.0}
    rnd = random.Random(11)

    class Faults:
        """Innermost middleware: inside the app's metrics layer, so its delays and 500s are measured."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not scope["path"].startswith("/api/"):
                await self.app(scope, receive, send)
                return
            if faults["delay"] > 0:
                await asyncio.sleep(faults["delay"])
            if rnd.random() >= faults["error_rate"]:
                await self.app(scope, receive, send)
                return
            for route in app.router.routes:  # label the failure with its route, as a handler's would be
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    break
            body = b'{"type":"about:blank","title":"Injected failure","status":500}'
            headers = [(b"content-type", b"application/problem+json"), (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    app.user_middleware.append(Middleware(Faults))

    async def set_faults(request: Request) -> JSONResponse:
        data = await request.json()
        faults.update({k: float(v) for k, v in data.items() if k in faults})
        return JSONResponse(faults)

    app.add_route("/_test/faults", set_faults, methods=["POST"])

    (workdir / "tenant.json").write_text(
        json.dumps({"shop_id": tenant.shop_id, "service_id": tenant.service_id, "barber_ids": tenant.barber_ids})
    )
    uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)).run()


# --------------------------------------------------------------------------- synthetic traffic
def traffic(base_url: str, workdir: Path, day_seconds: float, rate: float) -> None:  # pragma: no cover
    """Requests at a rate with a daily cycle: four availability reads to one booking attempt.

    Arrivals are evenly spaced rather than Poisson: at a few requests per scrape interval,
    Poisson counts alone would set new records every few synthetic days, and this test is about
    the monitor seeing faults, not about counting noise. Bookings take free slots (the generator
    remembers what it holds) and are cancelled a few seconds later, so the diary neither fills
    up nor turns attempts into conflicts: both would be real trends.
    """
    import heapq
    import random
    from concurrent.futures import ThreadPoolExecutor

    tenant = json.loads((workdir / "tenant.json").read_text())
    rnd = random.Random(7)
    local = threading.local()
    # Slots for the 30-minute service (plus its 10-minute buffer) on the shop's 15-minute grid,
    # Mon-Sat from 3 March, 09-13 and 14-18: never overlapping, so an attempt never conflicts.
    days = [d for d in range(3, 29) if d not in (8, 15, 22)]
    starts = [9 * 60 + 45 * k for k in range(5)] + [14 * 60 + 45 * k for k in range(5)]
    free = [(d, b, m) for d in days for b in range(3) for m in starts]
    rnd.shuffle(free)
    lock = threading.Lock()
    held: list[tuple[float, int, str, str, tuple[int, int, int]]] = []  # heap of (cancel at, n, id, token, slot)

    def client() -> httpx.Client:
        c = getattr(local, "client", None)
        if c is None:
            c = local.client = httpx.Client(base_url=base_url, headers={"host": HOST}, timeout=30)
        return c

    def read(n: int) -> None:
        date = f"2026-03-{days[n % len(days)]:02d}"
        client().get(
            f"/api/v1/shops/{tenant['shop_id']}/availability",
            params={"service_id": tenant["service_id"], "date": date},
        )

    def book(n: int) -> None:
        with lock:
            slot = free.pop()
        day, barber, minute = slot
        r = client().post(
            "/api/v1/bookings",
            json={
                "shop_id": tenant["shop_id"],
                "service_id": tenant["service_id"],
                "barber_id": tenant["barber_ids"][barber],
                "start": f"2026-03-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00-03:00",
                "customer": {"name": f"Cliente {n}", "phone": "+54 9 11 4000-0000", "email": f"c{n}@example.com"},
            },
        )
        if r.status_code == 201:  # otherwise (an injected failure) the slot is simply not reused
            body = r.json()
            with lock:
                heapq.heappush(held, (time.monotonic() + 3.0, n, body["id"], body["manage_token"], slot))

    def cancel(booking_id: str, token: str, slot: tuple[int, int, int]) -> None:
        r = client().post(f"/api/v1/bookings/{booking_id}/cancel", headers={"x-manage-token": token})
        if r.status_code == 200:
            with lock:
                free.insert(0, slot)

    def safely(fn: Any, *args: Any) -> None:
        with contextlib.suppress(httpx.HTTPError):
            fn(*args)

    with ThreadPoolExecutor(max_workers=64) as pool:
        start = next_at = time.monotonic()
        n = 0
        while True:
            now = time.monotonic()
            if now < next_at:
                time.sleep(min(next_at - now, 0.005))
                continue
            n += 1
            pool.submit(safely, book if n % 5 == 0 else read, n)
            current = rate * (1.0 + 0.4 * math.sin(2 * math.pi * (next_at - start) / day_seconds))
            next_at += 1.0 / current
            with lock:
                due = []
                while held and held[0][0] <= now:
                    due.append(heapq.heappop(held))
            for _, _, booking_id, token, slot in due:
                pool.submit(safely, cancel, booking_id, token, slot)


# --------------------------------------------------------------------------- fixtures
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerUnderTest:
    base_url: str
    pid: int

    def cpu_wait(self) -> float | None:
        """Seconds the server's threads have spent runnable but waiting for a CPU (Linux schedstat).

        Reported beside a false alert: a starved server is a real latency event, not a detector fault.
        """
        total = 0
        tasks = Path(f"/proc/{self.pid}/task")
        try:
            for task in tasks.iterdir():
                with contextlib.suppress(OSError):
                    total += int((task / "schedstat").read_text().split()[1])
        except OSError:
            return None
        return total / 1e9

    @property
    def metrics_url(self) -> str:
        return f"{self.base_url}/metrics"

    def faults(self, delay: float = 0.0, error_rate: float = 0.0) -> None:
        httpx.post(
            f"{self.base_url}/_test/faults",
            json={"delay": delay, "error_rate": error_rate},
            headers={"host": HOST},
            timeout=5,
        ).raise_for_status()


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    # Load shedding off, as rate limits are for platform tests: on a shared machine a neighbour's
    # CPU burst would make the gateway shed reads with 503s, a real error burst in the metrics.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "BARBERPRO_LOAD_SHEDDING_ENABLED": "false"}
    # The server on a CPU of its own, as a replica is deployed (deploy/api.yaml requests one), and
    # the traffic generator's threads on another: sharing both, they made the latency noisier.
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], env=env)
    cpus = sorted(os.sched_getaffinity(0))
    own = {"serve": {cpus[0]}, "traffic": {cpus[-1]}}.get(args[0]) if len(cpus) >= 2 else None
    if own:  # set while the child is still importing: the threads it starts later inherit it
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(proc.pid, own)
    return proc


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerUnderTest]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _spawn("serve", str(port), str(tmp_path))
    load = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        load = _spawn("traffic", url, str(tmp_path), str(DAY_SECONDS), str(RATE))
        time.sleep(2.0)  # past start-up (cold caches, first connections) before the first scrape
        yield ServerUnderTest(url, proc.pid)
    finally:
        for p in (load, proc):
            if p is not None:
                p.terminate()
                p.wait(10)


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.attempts = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from barberpro.ops.anomaly.webhook import SIGNATURE_HEADER, verify

                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if not verify(SECRET, self.headers.get(SIGNATURE_HEADER, ""), body):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.attempts == 1:
                    self.send_response(503)  # first delivery refused: the sender must retry
                else:
                    receiver.bodies.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.httpd.shutdown()


# --------------------------------------------------------------------------- the test
@pytest.mark.slow
def test_monitor_quiet_in_normal_traffic_and_alerts_on_latency_and_errors(
    server: ServerUnderTest, receiver: Receiver
) -> None:
    from structlog.testing import capture_logs

    from barberpro.ops.anomaly.detector import DEFAULT_THRESHOLD
    from barberpro.ops.anomaly.monitor import Monitor, MonitorSettings

    monitor = Monitor(
        MonitorSettings(
            urls=(server.metrics_url,),
            interval=INTERVAL,
            warmup=WARMUP,
            window=WINDOW,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )
    )
    assert monitor.threshold == DEFAULT_THRESHOLD  # one global threshold, the shipped one
    next_at = time.monotonic()

    def fault(**kwargs: float) -> None:
        nonlocal next_at
        server.faults(**kwargs)
        # Two scrapes after a fault are two intervals of time after it: a monitor running late
        # on a busy machine would otherwise catch up with back-to-back scrapes.
        next_at = time.monotonic()

    waits: list[float | None] = []  # the server's CPU wait at each scrape
    history: dict[str, list[float]] = {}  # every series' values, for the report of a false alert
    update = monitor.bank.update

    def recorded(key: str, value: float, timestamp: float | None = None) -> float:
        history.setdefault(key, []).append(value)
        return update(key, value, timestamp)

    monitor.bank.update = recorded  # type: ignore[method-assign]

    def tick() -> list[str]:
        nonlocal next_at
        next_at += INTERVAL
        time.sleep(max(0.0, next_at - time.monotonic()))
        raised = [a.series for a in monitor.tick()]
        waits.append(server.cpu_wait())
        return raised

    def starvation() -> str:
        seen = [w for w in waits if w is not None]
        if len(seen) < len(waits):
            return "server CPU wait unavailable"
        per_tick = [b - a for a, b in itertools.pairwise(seen)]
        warm = sorted(per_tick[:WARMUP])
        return (
            f"server CPU wait per scrape: warm-up median {warm[len(warm) // 2]:.3f} s, "
            f"normal day {[round(w, 3) for w in per_tick[WARMUP:]]}"
        )

    def seen_before(series: str) -> str:
        values = [v for v in history.get(series, []) if v == v]  # NaN: too few observations
        warm, day = sorted(values[:-NORMAL_TICKS]), values[-NORMAL_TICKS:]
        if not warm:
            return f"{series}: no warm-up values"
        return (
            f"{series}: warm-up min {warm[0]:.4g} median {warm[len(warm) // 2]:.4g} max {warm[-1]:.4g}, "
            f"normal day {[float(f'{v:.4g}') for v in day]}"
        )

    with capture_logs() as logs:
        for _ in range(WARMUP + 1):
            tick()
        normal = [s for _ in range(NORMAL_TICKS) for s in tick()]
        alerted = [(e["series"], e["score"], e["value"]) for e in logs if e["event"] == "anomaly.alert"]
        report = "; ".join([starvation(), *(seen_before(s) for s in dict.fromkeys(normal))])
        assert normal == [], f"false alerts in normal traffic: {alerted}; {report}"

        fault(delay=LATENCY_ADDED)
        latency_alerts = [s for _ in range(2) for s in tick()]
        assert any("duration" in s for s in latency_alerts), latency_alerts

        server.faults()
        for _ in range(10):
            tick()
        fault(error_rate=ERROR_RATE)
        error_alerts = [s for _ in range(2) for s in tick()]
        assert any("error_ratio" in s for s in error_alerts), error_alerts
        server.faults()
    monitor.close()

    alert_lines = [e for e in logs if e["event"] == "anomaly.alert"]
    assert alert_lines and {"series", "score", "threshold"} <= set(alert_lines[0])
    raised = sum(
        s.value
        for m in monitor.exposition.collect()
        if m.name == "barberpro_anomaly_alerts"
        for s in m.samples
        if s.name.endswith("_total")
    )
    assert raised >= 2
    assert receiver.bad_signatures == 0
    assert receiver.attempts >= 2 and receiver.bodies, "webhook was not retried and delivered"
    assert {b["series"] for b in receiver.bodies} & set(latency_alerts + error_alerts)


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        traffic(sys.argv[2], Path(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
