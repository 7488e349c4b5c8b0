"""The `externalscaler.ExternalScaler` service: KEDA asks, the replica policy answers.

KEDA turns an external trigger into a Kubernetes HPA on an External metric
with an `AverageValue` target, and the HPA then runs
ceil(metric value / target). So the scaler publishes one metric, the desired
replica count, with a target of 1 per replica: the HPA lands exactly on the
policy's answer and the policy (not the HPA's own arithmetic) decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc

from barberpro.entrypoints.keda_scaler import externalscaler_pb2 as pb
from barberpro.entrypoints.keda_scaler.externalscaler_pb2_grpc import ExternalScalerServicer
from barberpro.entrypoints.keda_scaler.scaler_metadata import (
    MetadataError,
    TargetSettings,
    settings_from_metadata,
)
from barberpro.entrypoints.worker.replica_policy import ReplicaPolicy, build_policy
from barberpro.entrypoints.worker.request_rate import CounterSampler, DemandWindow, scrape_counter

if TYPE_CHECKING:
    from barberpro.ops.autoscaling import Forecaster

METRIC_NAME = "barberpro-desired-replicas"

SamplerFactory = Callable[[TargetSettings], CounterSampler]


def default_sampler(settings: TargetSettings) -> CounterSampler:
    def read() -> dict[str, float]:
        return scrape_counter(settings.metrics_url, settings.counter)

    return CounterSampler(read, settings.step_seconds, settings.scrape_interval)


@dataclass
class _Target:
    """One ScaledObject: its settings, its (stateful) policy and its last answer."""

    settings: TargetSettings
    policy: ReplicaPolicy
    replicas: int
    lock: threading.Lock = field(default_factory=threading.Lock)


class PredictiveExternalScaler(ExternalScalerServicer):
    """Answers KEDA for any number of ScaledObjects, each with its own settings and policy.

    Samplers are shared by (metrics URL, counter, step, interval): several
    ScaledObjects watching the same endpoint cost one scrape loop.
    """

    def __init__(
        self,
        defaults: TargetSettings,
        sampler_factory: SamplerFactory = default_sampler,
        stream_interval: float = 5.0,
        forecaster: Forecaster | None = None,
    ) -> None:
        self.defaults = defaults
        # None: each ScaledObject's policy gets the default forecaster for its own step length.
        self._forecaster = forecaster
        self._sampler_factory = sampler_factory
        self._stream_interval = stream_interval
        self._lock = threading.Lock()
        self._samplers: dict[tuple[str, str, float, float], CounterSampler] = {}
        self._targets: dict[tuple[str, str], _Target] = {}
        self._stopping = threading.Event()

    # -- state ---------------------------------------------------------------------------------

    def _resolve(self, ref: pb.ScaledObjectRef, context: grpc.ServicerContext) -> tuple[_Target, CounterSampler]:
        try:
            settings = settings_from_metadata(dict(ref.scalerMetadata), self.defaults)
        except MetadataError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise  # abort raises; this line only tells type checkers so
        with self._lock:
            sampler_key = (
                settings.metrics_url,
                settings.counter,
                settings.step_seconds,
                settings.scrape_interval,
            )
            sampler = self._samplers.get(sampler_key)
            if sampler is None:
                sampler = self._sampler_factory(settings)
                sampler.sample_once()  # a baseline now, so the first full step closes sooner
                sampler.start()
                self._samplers[sampler_key] = sampler
            key = (ref.namespace, ref.name)
            target = self._targets.get(key)
            if target is None or target.settings != settings:
                # A changed ScaledObject gets a fresh policy: its state was about other bounds.
                target = _Target(settings, self._policy_for(settings), settings.min_replicas)
                self._targets[key] = target
        return target, sampler

    def _policy_for(self, settings: TargetSettings) -> ReplicaPolicy:
        return build_policy(settings.policy, settings.live(), self._forecaster)

    def desired_replicas(self, target: _Target, window: DemandWindow) -> int:
        with target.lock:
            target.replicas = target.policy.desired_replicas(window, target.replicas)
            return target.replicas

    @staticmethod
    def _is_active(target: _Target, window: DemandWindow) -> bool:
        if not window.values:
            return True  # nothing measured yet: never scale to zero blind
        return window.latest_rate_per_second > target.settings.activation_request_rate

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for sampler in self._samplers.values():
                sampler.stop()

    # -- RPCs ----------------------------------------------------------------------------------

    def IsActive(self, request: pb.ScaledObjectRef, context: grpc.ServicerContext) -> pb.IsActiveResponse:
        target, sampler = self._resolve(request, context)
        return pb.IsActiveResponse(result=self._is_active(target, sampler.window(steps=1)))

    def StreamIsActive(
        self, request: pb.ScaledObjectRef, context: grpc.ServicerContext
    ) -> Iterator[pb.IsActiveResponse]:
        target, sampler = self._resolve(request, context)
        last: bool | None = None
        # KEDA keeps this stream open and acts on each message; send only changes
        # (the first state included) and notice a gone client between checks.
        while context.is_active() and not self._stopping.is_set():
            active = self._is_active(target, sampler.window(steps=1))
            if active != last:
                last = active
                yield pb.IsActiveResponse(result=active)
            self._stopping.wait(self._stream_interval)

    def GetMetricSpec(self, request: pb.ScaledObjectRef, context: grpc.ServicerContext) -> pb.GetMetricSpecResponse:
        self._resolve(request, context)  # validates the metadata early, when KEDA reads the spec
        spec = pb.MetricSpec(metricName=METRIC_NAME, targetSize=1, targetSizeFloat=1.0)
        return pb.GetMetricSpecResponse(metricSpecs=[spec])

    def GetMetrics(self, request: pb.GetMetricsRequest, context: grpc.ServicerContext) -> pb.GetMetricsResponse:
        target, sampler = self._resolve(request.scaledObjectRef, context)
        settings = target.settings
        max_age = max(3 * settings.scrape_interval, settings.step_seconds + settings.scrape_interval)
        if sampler.is_stale(max_age):
            # Blind: say so rather than answer min replicas. KEDA counts the error
            # and, after the ScaledObject's fallback.failureThreshold, holds its fallback replicas.
            context.abort(grpc.StatusCode.UNAVAILABLE, f"request rate unknown: {sampler.last_error}")
        replicas = self.desired_replicas(target, sampler.window())
        # Answer under the name asked for (KEDA strips its "s0-" index prefix first).
        name = request.metricName or METRIC_NAME
        value = pb.MetricValue(metricName=name, metricValue=replicas, metricValueFloat=float(replicas))
        return pb.GetMetricsResponse(metricValues=[value])
