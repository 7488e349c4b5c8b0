"""Live monitor against a running HTTP server: no alert in normal traffic, alerts on injected faults.

The server under test is a small stand-in for the BarberPro app: a separate process exporting
the app's metric names (``barberpro_http_requests_total``, ``barberpro_http_request_duration_seconds``,
``barberpro_bookings_total``) with prometheus_client, fed by synthetic traffic with a daily
cycle (time compressed: one day = ``DAY_SECONDS``), and a ``POST /control`` to inject latency
and errors. To run this test against the real app, replace the ``server`` fixture with one that
starts ``barberpro.entrypoints.http.app:create_app``, drives traffic at it, and injects faults;
the test body only uses ``server.metrics_url`` and ``server.control(...)``.

The webhook receiver is a real local HTTP server that refuses the first delivery (to prove
the retry) and checks every signature.

Run this file as a script to start the stand-in server: ``python test_anomaly_monitor.py PORT DAY``.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

INTERVAL = 0.1  # seconds between scrapes
DAY_SECONDS = 12.0  # one synthetic day of traffic: 120 scrapes
WARMUP = 300  # 2.5 days of samples before the monitor may alert
NORMAL_TICKS = 240  # two full days of normal traffic must raise nothing
SECRET = "test-webhook-secret"


# --------------------------------------------------------------------------- stand-in server
def serve(port: int, day_seconds: float) -> None:  # pragma: no cover - runs in a subprocess
    import random

    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    registry = CollectorRegistry()
    requests = Counter("barberpro_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry)
    duration = Histogram(
        "barberpro_http_request_duration_seconds", "HTTP latency", ["method", "route"], registry=registry
    )
    bookings = Counter("barberpro_bookings", "Booking attempts", ["outcome"], registry=registry)
    state = {"latency_factor": 1.0, "error_rate": 0.0}
    lock = threading.Lock()
    rnd = random.Random(7)
    routes = [("GET", "/api/v1/slots", 0.6, 0.030), ("POST", "/api/v1/bookings", 0.4, 0.080)]

    def traffic() -> None:
        start = last = time.monotonic()
        while True:
            time.sleep(0.01)
            now = time.monotonic()
            dt, last = now - last, now
            phase = 2 * math.pi * (now - start) / day_seconds
            rate = 600.0 * (1.0 + 0.6 * math.sin(phase))  # requests per second, daily cycle
            with lock:
                factor, err = state["latency_factor"], state["error_rate"]
            for _ in range(_poisson(rnd, rate * dt)):
                method, route, _share, median = routes[0] if rnd.random() < routes[0][2] else routes[1]
                failed = rnd.random() < err
                requests.labels(method, route, "500" if failed else "200").inc()
                duration.labels(method, route).observe(median * factor * math.exp(rnd.gauss(0.0, 0.35)))
                if route.endswith("bookings"):
                    bookings.labels("failed" if failed else "confirmed").inc()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.update({k: float(v) for k, v in data.items() if k in state})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    threading.Thread(target=traffic, daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _poisson(rnd: object, lam: float) -> int:  # pragma: no cover - subprocess helper
    import random

    assert isinstance(rnd, random.Random)
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1


# --------------------------------------------------------------------------- fixtures
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerUnderTest:
    base_url: str

    @property
    def metrics_url(self) -> str:
        return f"{self.base_url}/metrics"

    def control(self, latency_factor: float = 1.0, error_rate: float = 0.0) -> None:
        httpx.post(
            f"{self.base_url}/control",
            json={"latency_factor": latency_factor, "error_rate": error_rate},
            timeout=5,
        ).raise_for_status()


@pytest.fixture
def server() -> Iterator[ServerUnderTest]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(port), str(DAY_SECONDS)])
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield ServerUnderTest(url)
    finally:
        proc.terminate()
        proc.wait(10)


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

    from barberpro.ops.anomaly.monitor import Monitor, MonitorSettings

    monitor = Monitor(
        MonitorSettings(
            urls=(server.metrics_url,),
            interval=INTERVAL,
            warmup=WARMUP,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )
    )
    next_at = time.monotonic()

    def tick() -> list[str]:
        nonlocal next_at
        next_at += INTERVAL
        time.sleep(max(0.0, next_at - time.monotonic()))
        return [a.series for a in monitor.tick()]

    with capture_logs() as logs:
        for _ in range(WARMUP + 1):
            tick()
        normal = [s for _ in range(NORMAL_TICKS) for s in tick()]
        assert normal == [], f"false alerts in normal traffic: {normal}"

        server.control(latency_factor=3.0)
        latency_alerts = [s for _ in range(2) for s in tick()]
        assert any("duration" in s for s in latency_alerts), latency_alerts

        server.control()
        for _ in range(10):
            tick()
        server.control(error_rate=0.3)
        error_alerts = [s for _ in range(2) for s in tick()]
        assert any("error_ratio" in s for s in error_alerts), error_alerts
        server.control()
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
    serve(int(sys.argv[1]), float(sys.argv[2]))
