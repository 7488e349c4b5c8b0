"""Shared by the gateway benchmarks: a seeded database and a uvicorn server in a subprocess.

Seeding, booking bodies and the wrk runner come from api_throughput.py (the platform's own
benchmark), so both measure the same tenant the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from api_throughput import free_port

HOST = "bench.barberpro.localhost"


@contextmanager
def server(
    database_url: str, tmp: Path, cpus: str | None = None, info: dict[str, int] | None = None, **env_overrides: str
) -> Iterator[str]:
    """uvicorn, one worker, on loopback; yields the base URL. `cpus` pins it (taskset -c);
    `info` receives the server's pid."""
    port = free_port()
    env = {
        **os.environ,
        "BARBERPRO_DATABASE_URL": database_url,
        "BARBERPRO_DEFAULT_TENANT": "bench",
        "BARBERPRO_SECRET_KEY": "bench-secret-key-with-at-least-32-characters",
        "BARBERPRO_VAR_DIR": str(tmp),
        "BARBERPRO_LOG_LEVEL": "WARNING",
        **env_overrides,
    }
    log = (tmp / f"server-{port}.log").open("w")
    pin = ["taskset", "-c", cpus] if cpus is not None else []
    process = subprocess.Popen(
        [
            *pin,
            sys.executable,
            "-m",
            "uvicorn",
            "barberpro.entrypoints.http.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    if info is not None:
        info["pid"] = process.pid  # taskset execs the interpreter: same pid
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {log.name}")
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
