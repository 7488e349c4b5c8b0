"""`barberpro serve --workers auto`: the API under gunicorn, its worker count set by the autoscaling policy.

Gunicorn (with uvicorn workers) runs as a child process; a controller thread
here reads the API's own request counter from its /metrics endpoint (summed
over workers by prometheus_client's multiprocess collector, through the
PROMETHEUS_MULTIPROC_DIR this module sets up), asks the policy how many
workers the demand needs, and moves gunicorn there one worker at a time with
its documented TTIN (add one) and TTOU (remove one) signals.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barberpro.entrypoints.worker.replica_policy import LiveScalingSettings, ReplicaPolicy, build_policy
from barberpro.entrypoints.worker.request_rate import DEFAULT_COUNTER, CounterSampler, scrape_counter

log = logging.getLogger(__name__)


def default_capacity_per_worker() -> float:
    """Requests per second one worker serves within the SLO: the autoscaling library's figure."""
    from barberpro.ops.autoscaling import default_config

    return default_config().capacity_per_replica_rpm / 60.0


@dataclass(frozen=True)
class PoolSettings:
    app_factory: str  # "package.module:create_app", a function returning the ASGI app
    host: str = "127.0.0.1"
    port: int = 8000
    min_workers: int = 1
    max_workers: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    policy: str = "auto"
    capacity_per_worker: float | None = None  # None: the autoscaling library's default
    step_seconds: float = 5.0
    sample_interval: float = 1.0
    # A uvicorn worker imports the app and is serving within a second or two.
    cold_start_seconds: float = 2.0
    hpa_target_utilisation: float | None = None
    scale_down_stabilisation_seconds: float | None = None
    metrics_path: str = "/metrics"
    counter: str = DEFAULT_COUNTER
    # None: $PROMETHEUS_MULTIPROC_DIR if set, else a fresh temporary directory removed on stop.
    multiproc_dir: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def live(self) -> LiveScalingSettings:
        capacity = self.capacity_per_worker or default_capacity_per_worker()
        return LiveScalingSettings(
            capacity_per_replica=capacity,
            step_seconds=self.step_seconds,
            cold_start_seconds=self.cold_start_seconds,
            min_replicas=self.min_workers,
            max_replicas=self.max_workers,
            hpa_target_utilisation=self.hpa_target_utilisation,
            scale_down_stabilisation_seconds=self.scale_down_stabilisation_seconds,
        )

    @property
    def metrics_url(self) -> str:
        # A wildcard bind address is not something to connect to; loopback reaches it.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.metrics_path}"


def child_pids(parent: int) -> list[int]:
    """Live child processes of `parent`, from /proc (gunicorn's workers are its master's children)."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone between listing and reading
        # Fields after the parenthesised command name: state, ppid, ...
        fields_after = stat.rsplit(")", 1)[1].split()
        if int(fields_after[1]) == parent and fields_after[0] != "Z":
            children.append(int(entry.name))
    return children


class AutoscaledServer:
    """Gunicorn plus the controller; `start()` returns once the API answers, `stop()` ends both."""

    def __init__(self, settings: PoolSettings, policy: ReplicaPolicy | None = None) -> None:
        if not 1 <= settings.min_workers <= settings.max_workers:
            raise ValueError("need 1 <= min_workers <= max_workers")
        self.settings = settings
        self.policy = policy or build_policy(settings.policy, settings.live())
        self.target_workers = settings.min_workers
        self.scaling_events: list[tuple[float, int]] = []  # (monotonic time, new target)
        self._process: subprocess.Popen[bytes] | None = None
        self._owned_dir: Path | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_action = 0.0
        self._mismatch_since: float | None = None

        own_scrapes = f"route={settings.metrics_path}"

        def read() -> dict[str, float]:
            series = scrape_counter(settings.metrics_url, settings.counter)
            # Our own scrapes of /metrics are not demand.
            return {k: v for k, v in series.items() if own_scrapes not in k.split(",")}

        self.sampler = CounterSampler(read, settings.step_seconds, settings.sample_interval)

    # -- gunicorn ------------------------------------------------------------------------------

    def _command(self) -> list[str]:
        s = self.settings
        bind = f"[{s.host}]:{s.port}" if ":" in s.host else f"{s.host}:{s.port}"
        return [
            sys.executable, "-m", "gunicorn",
            "--config", "python:barberpro.entrypoints.worker.gunicorn_config",
            "--bind", bind,
            "--workers", str(s.min_workers),
            f"{s.app_factory}()",
        ]  # fmt: skip

    def _environment(self) -> dict[str, str]:
        directory = self.settings.multiproc_dir
        if directory is None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])  # the operator's choice wins
        if directory is None:
            directory = self._owned_dir = Path(tempfile.mkdtemp(prefix="barberpro-metrics-"))
        else:
            directory.mkdir(parents=True, exist_ok=True)
            # Files from an earlier run would be summed into today's counters.
            for stale in directory.glob("*.db"):
                stale.unlink()
        return {**os.environ, **self.settings.extra_env, "PROMETHEUS_MULTIPROC_DIR": str(directory)}

    @property
    def master_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def live_workers(self) -> int:
        pid = self.master_pid
        return len(child_pids(pid)) if pid is not None else 0

    def start(self, ready_timeout: float = 30.0) -> None:
        self._process = subprocess.Popen(self._command(), env=self._environment())
        deadline = time.monotonic() + ready_timeout
        while True:
            if self._process.poll() is not None:
                self._cleanup()
                raise RuntimeError(f"gunicorn exited with {self._process.returncode} while starting")
            try:
                scrape_counter(self.settings.metrics_url, self.settings.counter, timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"API not answering at {self.settings.metrics_url}") from None
                time.sleep(0.1)
        self.sampler.sample_once()
        self._last_action = time.monotonic()
        self._thread = threading.Thread(target=self._control_loop, name="worker-autoscaler", daemon=True)
        self._thread.start()
        log.info("serving %s on %s with %d worker(s)", self.settings.app_factory, self.settings.port,
                 self.target_workers)  # fmt: skip

    # -- controller ----------------------------------------------------------------------------

    def _control_loop(self) -> None:
        interval = self.settings.sample_interval
        while not self._stop.wait(interval):
            if not self.running:
                return
            self.sampler.sample_once()
            try:
                self.control_step()
            except Exception:  # the pool must keep serving whatever the policy does
                log.exception("autoscaling step failed; worker count unchanged")

    def control_step(self) -> None:
        live = self.live_workers()
        now = time.monotonic()
        settle = max(10.0, 5 * self.settings.sample_interval)
        if live == self.target_workers:
            self._mismatch_since = None
        elif self._mismatch_since is None:
            self._mismatch_since = now
        elif now - self._mismatch_since > settle and now - self._last_action > settle:
            # Gunicorn keeps at most five pending signals; if one was lost, the
            # count it has kept for longer than any respawn takes is the truth.
            log.warning("gunicorn runs %d workers, expected %d; re-syncing", live, self.target_workers)
            self.target_workers = live
            self._mismatch_since = None
        desired = self.policy.desired_replicas(self.sampler.window(), self.target_workers, live)
        desired = max(self.settings.min_workers, min(self.settings.max_workers, desired))
        if desired != self.target_workers:
            self._scale_to(desired)

    def _scale_to(self, desired: int) -> None:
        if self._process is None:
            return
        sig = signal.SIGTTIN if desired > self.target_workers else signal.SIGTTOU
        step = 1 if desired > self.target_workers else -1
        log.info("scaling workers %d -> %d", self.target_workers, desired)
        while self.target_workers != desired:
            os.kill(self._process.pid, sig)
            self.target_workers += step
            time.sleep(0.02)  # one signal at a time: gunicorn queues only a few
        self._last_action = time.monotonic()
        self.scaling_events.append((self._last_action, desired))

    # -- shutdown ------------------------------------------------------------------------------

    def stop(self, timeout: float = 15.0) -> int | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        code: int | None = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()  # SIGTERM: gunicorn's graceful shutdown
                try:
                    self._process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            code = self._process.returncode
        self._cleanup()
        return code

    def _cleanup(self) -> None:
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def wait(self) -> int:
        """Blocks until gunicorn exits on its own (a crash, or a signal sent straight to it)."""
        assert self._process is not None, "start() first"
        return self._process.wait()


def run(
    app_factory: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    min_workers: int = 1,
    max_workers: int | None = None,
    **options: Any,
) -> int:
    """Serves `app_factory` under the autoscaled pool until SIGINT/SIGTERM; returns gunicorn's exit code.

    `options` are further `PoolSettings` fields (policy, capacity_per_worker,
    step_seconds, sample_interval, cold_start_seconds, ...).
    """
    chosen: dict[str, Any] = {"host": host, "port": port, "min_workers": min_workers, **options}
    if max_workers is not None:
        chosen["max_workers"] = max_workers
    settings = PoolSettings(app_factory=app_factory, **chosen)
    server = AutoscaledServer(settings)
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    try:
        while not stopping.is_set() and server.running:
            stopping.wait(0.5)
    finally:
        code = server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code or 0
