"""The autoscaled worker pool: real gunicorn, real uvicorn workers, real load on loopback.

The app under the pool is a small one written here (the same contract as the
BarberPro API: a factory function, a request counter, /metrics aggregated
across workers when PROMETHEUS_MULTIPROC_DIR is set), so this test exercises
the pool itself: load goes up, workers are added and serve; load stops,
workers are removed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from barberpro.entrypoints.worker.autoscaled_server import AutoscaledServer, PoolSettings, child_pids
from barberpro.entrypoints.worker.replica_policy import build_policy
from barberpro.ops.forecasting import DailyProfileForecaster

pytestmark = pytest.mark.slow

APP_SOURCE = textwrap.dedent(
    """
    import os

    from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route


    def create_app():
        requests = Counter(
            "barberpro_http_requests", "Requests served.", ["route"], registry=None
        )

        async def work(request):
            requests.labels(route="/work").inc()
            return JSONResponse({"pid": os.getpid()})

        async def metrics(request):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

        return Starlette(routes=[Route("/work", work), Route("/metrics", metrics)])
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


async def paced_load(url: str, rate: float, seconds: float, pids: set[int]) -> int:
    """About `rate` requests/s for `seconds`, a new connection each time; bounded in count and time."""
    limit = int(rate * seconds)
    sent = 0
    clients = 8
    start = time.monotonic()

    async def client(k: int) -> None:
        nonlocal sent
        # No keep-alive: each request is a fresh accept, so every worker gets its share.
        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=5) as http:
            i = 0
            while sent < limit and time.monotonic() - start < seconds:
                due = start + (i * clients + k) / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                response = await http.get(url)
                pids.add(int(response.json()["pid"]))
                sent += 1
                i += 1

    await asyncio.gather(*(client(k) for k in range(clients)))
    return sent


def test_workers_follow_the_load_up_and_back_down(tmp_path: Path) -> None:
    (tmp_path / "pool_test_app.py").write_text(APP_SOURCE)
    settings = PoolSettings(
        app_factory="pool_test_app:create_app",
        port=free_port(),
        min_workers=1,
        max_workers=3,
        policy="auto",  # the shipped default policy (hybrid: predictive and HPA)
        capacity_per_worker=40.0,
        step_seconds=1.0,
        sample_interval=0.25,
        cold_start_seconds=1.0,
        # The library's 5-minute scale-down window, shortened so the test ends in a minute.
        scale_down_stabilisation_seconds=3.0,
        multiproc_dir=tmp_path / "metrics",
        extra_env={"PYTHONPATH": str(tmp_path)},
    )
    # The default forecaster, its 30-minute level window shortened like the scale-down
    # window: with under a day of history it forecasts that window's mean, which on
    # one-second steps would hold the load's level for half an hour.
    forecaster = DailyProfileForecaster(settings.step_seconds / 60.0, level_minutes=15 / 60)
    server = AutoscaledServer(settings, build_policy(settings.policy, settings.live(), forecaster))
    server.start()
    try:
        assert server.live_workers() == 1
        # A crashed worker is gunicorn's to replace; the controller must not mistake it for a lost signal.
        (worker,) = child_pids(server.master_pid or 0)
        os.kill(worker, signal.SIGKILL)
        assert wait_for(lambda: child_pids(server.master_pid or 0) not in ([], [worker]), timeout=10)
        assert server.target_workers == 1
        url = f"http://127.0.0.1:{settings.port}/work"

        pids: set[int] = set()
        started = time.monotonic()
        sent = asyncio.run(paced_load(url, rate=150.0, seconds=14.0, pids=pids))
        # 150 req/s needs 4 workers of 40 req/s: the pool grows to its maximum.
        assert max((n for _, n in server.scaling_events), default=1) == 3, server.scaling_events
        assert server.live_workers() == 3
        assert len(pids) >= 2, "added workers must serve requests"
        assert sent > 1000
        scaled_up_after = server.scaling_events[0][0] - started

        load_stopped = time.monotonic()
        assert wait_for(lambda: server.live_workers() == 1, timeout=35), server.scaling_events
        assert server.target_workers == 1
        scaled_down_after = time.monotonic() - load_stopped
        print(f"first scale-up {scaled_up_after:.1f} s after load began; back to 1 worker "
              f"{scaled_down_after:.1f} s after it stopped")  # fmt: skip
    finally:
        master = server.master_pid
        code = server.stop()
    assert code == 0
    assert master is not None and child_pids(master) == []


def test_run_serves_until_sigterm_then_stops_gunicorn(tmp_path: Path) -> None:
    """`run()` is what `barberpro serve --workers auto` calls: it blocks, and SIGTERM ends it cleanly."""
    (tmp_path / "pool_test_app.py").write_text(APP_SOURCE)
    port = free_port()
    code = (
        "from barberpro.entrypoints.worker.autoscaled_server import run\n"
        f"raise SystemExit(run('pool_test_app:create_app', '127.0.0.1', {port}, 1, 2, sample_interval=0.5))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/work"), timeout=30)
        (master,) = child_pids(process.pid)
        assert len(child_pids(master)) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not Path(f"/proc/{master}").exists() or child_pids(master) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_real_api_scales_on_its_own_request_counter(tmp_path: Path) -> None:
    """The BarberPro app factory under the pool: its /metrics (multiprocess) drives the workers."""
    pytest.importorskip("barberpro.entrypoints.http.app")
    settings = PoolSettings(
        app_factory="barberpro.entrypoints.http.app:create_app",
        port=free_port(),
        min_workers=1,
        max_workers=2,
        capacity_per_worker=30.0,
        step_seconds=1.0,
        sample_interval=0.25,
        cold_start_seconds=1.0,
        extra_env={
            "BARBERPRO_DATABASE_URL": f"sqlite:///{tmp_path / 'barberpro.db'}",
            "BARBERPRO_LOG_LEVEL": "WARNING",
        },
    )
    server = AutoscaledServer(settings)
    server.start(ready_timeout=60)
    try:
        url = f"http://127.0.0.1:{settings.port}/healthz"
        sent = 0
        with httpx.Client(timeout=5) as http:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and server.live_workers() < 2:
                assert http.get(url).status_code == 200
                sent += 1
                time.sleep(0.005)
            metrics = http.get(f"http://127.0.0.1:{settings.port}/metrics").text
        assert server.live_workers() == 2, f"{sent} requests did not add a worker"
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("barberpro_http_requests_total{") and 'route="/healthz"' in line
        )
        assert counted >= sent  # every request counted, whichever worker served it
    finally:
        code = server.stop()
    assert code == 0
