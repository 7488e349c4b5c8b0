"""Runs the KEDA external scaler as a gRPC server."""

from __future__ import annotations

import signal
import threading
from concurrent import futures
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from barberpro.entrypoints.keda_scaler.externalscaler_pb2_grpc import add_ExternalScalerServicer_to_server
from barberpro.entrypoints.keda_scaler.scaler_metadata import TargetSettings
from barberpro.entrypoints.keda_scaler.service import (
    PredictiveExternalScaler,
    SamplerFactory,
    default_sampler,
)

if TYPE_CHECKING:
    from barberpro.ops.autoscaling import Forecaster


@dataclass
class RunningScaler:
    server: grpc.Server
    service: PredictiveExternalScaler
    port: int

    def stop(self, grace: float = 2.0) -> None:
        self.service.stop()  # ends open StreamIsActive streams first, so the grace period is short
        self.server.stop(grace).wait()


def start_scaler(
    defaults: TargetSettings,
    address: str = "0.0.0.0:9090",
    max_workers: int = 16,
    sampler_factory: SamplerFactory = default_sampler,
    stream_interval: float = 5.0,
    forecaster: Forecaster | None = None,
) -> RunningScaler:
    """Starts the server and returns at once; port 0 in `address` picks a free port."""
    service = PredictiveExternalScaler(defaults, sampler_factory, stream_interval, forecaster)
    # Each open StreamIsActive holds a thread for its lifetime: size the pool for
    # the ScaledObjects this scaler serves plus the unary calls.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="keda-rpc"))
    add_ExternalScalerServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return RunningScaler(server, service, port)


def serve_forever(running: RunningScaler) -> None:
    """Blocks until SIGTERM or SIGINT (Kubernetes stops pods with SIGTERM), then stops cleanly."""
    done = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        done.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        running.stop()
