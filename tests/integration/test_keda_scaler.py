"""The KEDA external scaler, exercised over real gRPC against a live Prometheus text endpoint."""

from __future__ import annotations

import filecmp
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.entrypoints.keda_scaler import externalscaler_pb2 as pb
from barberpro.entrypoints.keda_scaler import stub_generation
from barberpro.entrypoints.keda_scaler.externalscaler_pb2_grpc import ExternalScalerStub
from barberpro.entrypoints.keda_scaler.scaler_metadata import TargetSettings
from barberpro.entrypoints.keda_scaler.server import RunningScaler, start_scaler
from barberpro.entrypoints.keda_scaler.service import METRIC_NAME
from barberpro.entrypoints.worker.replica_policy import LiveScalingSettings, OpsPolicyAdapter
from barberpro.entrypoints.worker.request_rate import CounterHistory, DemandWindow, counter_series

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class FakeApiMetrics:
    """A Prometheus text endpoint whose request counter grows at a rate the test sets.

    Two labelled series (two routes) share the rate, so the scaler must sum them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._base = 0.0
        self._since = time.time()

    def set_rate(self, per_second: float) -> None:
        with self._lock:
            self._base = self._total_locked()
            self._since = time.time()
            self._rate = per_second

    def _total_locked(self) -> float:
        return self._base + self._rate * (time.time() - self._since)

    def exposition(self) -> str:
        with self._lock:
            total = self._total_locked()
        return (
            "# HELP barberpro_http_requests_total Requests served.\n"
            "# TYPE barberpro_http_requests_total counter\n"
            f'barberpro_http_requests_total{{route="/a",status="200"}} {total * 0.25}\n'
            f'barberpro_http_requests_total{{route="/b",status="200"}} {total * 0.75}\n'
        )


@pytest.fixture
def api_metrics() -> Iterator[tuple[FakeApiMetrics, str]]:
    metrics = FakeApiMetrics()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = metrics.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield metrics, f"http://127.0.0.1:{httpd.server_address[1]}/metrics"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def scaler() -> Iterator[RunningScaler]:
    defaults = TargetSettings(step_seconds=0.5, scrape_interval=0.05, capacity_per_replica=10.0)
    running = start_scaler(defaults, address="127.0.0.1:0", stream_interval=0.05)
    yield running
    running.stop()


@pytest.fixture
def stub(scaler: RunningScaler) -> Iterator[ExternalScalerStub]:
    with grpc.insecure_channel(f"127.0.0.1:{scaler.port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=5)
        yield ExternalScalerStub(channel)  # type: ignore[no-untyped-call]


def scaled_object(url: str, **extra: str) -> pb.ScaledObjectRef:
    # As KEDA sends it: the whole trigger metadata, its own scalerAddress included,
    # and a `...FromEnv` key already resolved from the target's environment.
    metadata = {"scalerAddress": "scaler:9090", "metricsUrlFromEnv": url, "maxReplicas": "30", **extra}
    return pb.ScaledObjectRef(name="barberpro-api", namespace="barberpro", scalerMetadata=metadata)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_metric_spec_targets_one_replica_per_unit(
    api_metrics: tuple[FakeApiMetrics, str], stub: ExternalScalerStub
) -> None:
    _, url = api_metrics
    spec = stub.GetMetricSpec(scaled_object(url), timeout=5)
    assert [(s.metricName, s.targetSize, s.targetSizeFloat) for s in spec.metricSpecs] == [(METRIC_NAME, 1, 1.0)]


def test_replicas_follow_the_live_rate_up_then_down(
    api_metrics: tuple[FakeApiMetrics, str], stub: ExternalScalerStub
) -> None:
    metrics, url = api_metrics
    ref = scaled_object(url, policy="hpa", targetUtilisation="0.5", scaleDownStabilisationSeconds="1")
    request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=METRIC_NAME)
    metrics.set_rate(100.0)  # 100 req/s over 10 req/s per replica at 50 % utilisation → 20 replicas

    seen: list[int] = []

    def replicas() -> int:
        response = stub.GetMetrics(request, timeout=5)
        (value,) = response.metricValues
        assert value.metricName == METRIC_NAME
        assert value.metricValue == int(value.metricValueFloat)
        seen.append(int(value.metricValue))
        return seen[-1]

    assert wait_for(lambda: replicas() == 20, timeout=10), seen
    # HPA's scale-up limit (double or +4 per decision) shapes the climb; it never overshoots.
    climb = [r for r in seen if r > 1]
    assert climb == sorted(climb) and max(seen) == 20
    assert stub.IsActive(ref, timeout=5).result is True

    metrics.set_rate(0.0)
    assert wait_for(lambda: replicas() == 1, timeout=10), seen
    assert wait_for(lambda: stub.IsActive(ref, timeout=5).result is False, timeout=5)


def test_default_policy_provisions_for_the_live_rate(
    api_metrics: tuple[FakeApiMetrics, str], stub: ExternalScalerStub
) -> None:
    metrics, url = api_metrics
    metrics.set_rate(100.0)  # needs 10 replicas of 10 req/s; the shipped policy adds headroom
    request = pb.GetMetricsRequest(scaledObjectRef=scaled_object(url, coldStartSeconds="1"), metricName=METRIC_NAME)

    def replicas() -> int:
        return int(stub.GetMetrics(request, timeout=5).metricValues[0].metricValue)

    assert wait_for(lambda: replicas() >= 10, timeout=10)
    assert 10 <= replicas() <= 30


def test_stream_is_active_pushes_changes(api_metrics: tuple[FakeApiMetrics, str], stub: ExternalScalerStub) -> None:
    metrics, url = api_metrics
    metrics.set_rate(50.0)
    ref = scaled_object(url)
    stream = stub.StreamIsActive(ref, timeout=20)
    assert next(stream).result is True  # nothing measured yet counts as active
    metrics.set_rate(0.0)
    assert next(stream).result is False
    metrics.set_rate(30.0)
    assert next(stream).result is True
    stream.cancel()


def test_bad_metadata_is_invalid_argument(api_metrics: tuple[FakeApiMetrics, str], stub: ExternalScalerStub) -> None:
    _, url = api_metrics
    for bad in ({"minReplicas": "5", "maxReplicas": "2"}, {"capacityPerReplica": "fast"}, {"colour": "red"}):
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetMetricSpec(scaled_object(url, **bad), timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unreadable_metrics_are_an_error_not_a_silent_minimum(stub: ExternalScalerStub) -> None:
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens there
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/metrics"
    request = pb.GetMetricsRequest(scaledObjectRef=scaled_object(url), metricName=METRIC_NAME)
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetMetrics(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "request rate unknown" in (caught.value.details() or "")


def test_newer_optional_rpc_is_unimplemented_so_keda_falls_back(scaler: RunningScaler) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{scaler.port}") as channel:
        call = channel.unary_stream(
            "/externalscaler.ExternalScaler/StreamMetricSpec",
            request_serializer=pb.ScaledObjectRef.SerializeToString,
            response_deserializer=pb.GetMetricSpecResponse.FromString,
        )
        with pytest.raises(grpc.RpcError) as caught:
            list(call(pb.ScaledObjectRef(name="x"), timeout=5))
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    for generated in stub_generation.generate(tmp_path):
        committed = stub_generation.PACKAGE_DIR / generated.name
        assert filecmp.cmp(generated, committed, shallow=False), f"{committed.name} is stale: regenerate it"


def test_scaled_object_points_at_the_scaler_service() -> None:
    deploy = PROJECT_ROOT / "deploy"
    scaled = (deploy / "scaledobject.yaml").read_text()
    scaler = (deploy / "keda-scaler.yaml").read_text()
    address = re.search(r"scalerAddress:\s*\"?([\w.-]+):(\d+)", scaled)
    assert address, "ScaledObject has no external scalerAddress"
    host, port = address.group(1), address.group(2)
    assert re.search(rf"name:\s*{re.escape(host.split('.')[0])}\b", scaler)
    assert re.search(rf"port:\s*{port}\b", scaler)
    assert "type: external" in scaled


# -- properties of the pieces the scaler is built from -----------------------------------------


def exposition(series: dict[str, float]) -> str:
    lines = ["# TYPE barberpro_http_requests_total counter"]
    lines += [f'barberpro_http_requests_total{{pod="{k}"}} {v}' for k, v in series.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0, 5000),
    gaps=st.lists(st.floats(0.01, 3.0), min_size=2, max_size=60),
    step=st.sampled_from([0.5, 1.0, 5.0]),
)
def test_constant_rate_gives_rate_times_step_whatever_the_scrape_times(
    rate: float, gaps: list[float], step: float
) -> None:
    history = CounterHistory(step)
    t = 1_000_000.0
    for gap in gaps:
        history.observe(t, counter_series(exposition({"a": rate * t})))
        t += gap
    for value in history.window().values:
        assert value == pytest.approx(rate * step, rel=1e-6, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    increments=st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000), st.booleans()), min_size=3, max_size=40)
)
def test_resets_and_replica_churn_never_lose_or_invent_requests(
    increments: list[tuple[int, int, bool]],
) -> None:
    """Two replicas' counters; replica b restarts (counts again from zero) when the flag says so.

    Only a restart that leaves the counter lower is visible in any counter
    scheme (Prometheus' included), so the generated restarts are those.
    """
    history = CounterHistory(1.0, max_steps=10_000)
    a = b = 0
    true_total = 0
    for i, (da, db, restart_b) in enumerate(increments):
        a += da
        b = db if restart_b and db < b else b + db
        if i > 0:  # the first observation is the baseline
            true_total += da + db
        history.observe(float(i), counter_series(exposition({"a": a, "b": b})))
    values = history.window().values
    assert all(v >= -1e-9 for v in values)
    assert sum(values) == pytest.approx(true_total)


@settings(max_examples=60, deadline=None)
@given(
    demand=st.lists(st.floats(0, 2_000), min_size=2, max_size=80),
    visible=st.integers(1, 12),
    polls=st.lists(st.integers(1, 3), min_size=80, max_size=80),
    name=st.sampled_from(["hpa", "predictive", "hybrid"]),
)
def test_adapter_drives_the_library_policy_exactly_once_per_step(
    demand: list[float], visible: int, polls: list[int], name: str
) -> None:
    """Sliding windows polled several times per step give the library's own decisions on the full history."""
    import numpy as np

    from barberpro.ops.autoscaling import ReplicaState

    live = LiveScalingSettings(
        capacity_per_replica=10.0,
        step_seconds=60.0,
        cold_start_seconds=120.0,
        min_replicas=2,
        max_replicas=40,
    )
    adapter = OpsPolicyAdapter(name, live)
    reference = OpsPolicyAdapter(name, live)._make()  # the same library object, called directly

    expected: list[int] = []
    got: list[int] = []
    current = 2
    for t in range(1, len(demand) + 1):
        window = DemandWindow(60.0, 60.0 * t, tuple(demand[max(0, t - visible) : t]))
        for _ in range(polls[t - 1]):
            answer = adapter.desired_replicas(window, current)
        got.append(answer)
        expected.append(int(reference.decide(np.asarray(demand[:t]), ReplicaState(current, current))))
        current = answer
        assert live.min_replicas <= answer <= live.max_replicas
    assert got == expected


def test_cli_command_serves_until_sigterm(api_metrics: tuple[FakeApiMetrics, str]) -> None:
    """`barberpro autoscale keda-scaler`, registered on a Typer app as the CLI does, in its own process."""
    import os
    import signal
    import subprocess
    import sys

    _, url = api_metrics
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    program = (
        "import typer\n"
        "from barberpro.entrypoints.cli.autoscale_actuators import register\n"
        "app = typer.Typer()\n"
        "app.callback()(lambda: None)\n"
        "register(app)\n"
        "app()\n"
    )
    args = ["keda-scaler", "--listen", f"127.0.0.1:{port}", "--metrics-url", url, "--step-seconds", "1"]
    process = subprocess.Popen([sys.executable, "-c", program, *args], env=dict(os.environ))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=20)
            stub = ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
            spec = stub.GetMetricSpec(pb.ScaledObjectRef(name="api", namespace="barberpro"), timeout=5)
            assert spec.metricSpecs[0].metricName == METRIC_NAME
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
