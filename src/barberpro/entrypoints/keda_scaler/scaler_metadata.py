"""Per-ScaledObject settings, read from the `metadata` of the ScaledObject's `external` trigger.

KEDA hands the trigger's metadata to every call as `scalerMetadata`; the
server's own defaults (its command-line options) fill whatever a ScaledObject
leaves out, so one scaler can serve several deployments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from barberpro.entrypoints.worker.replica_policy import POLICY_NAMES, LiveScalingSettings
from barberpro.entrypoints.worker.request_rate import DEFAULT_COUNTER


def library_capacity_per_replica() -> float:
    from barberpro.ops.autoscaling import default_config

    return default_config().capacity_per_replica_rpm / 60.0


@dataclass(frozen=True)
class TargetSettings:
    # Where the live request rate comes from: the API's Prometheus endpoint
    # (a Service in front of all replicas sums nothing, so point it at a
    # Prometheus server's federate endpoint or at one aggregated /metrics).
    metrics_url: str = "http://barberpro-api:8000/metrics"
    counter: str = DEFAULT_COUNTER
    # Requests per second one replica serves within the latency SLO; by default
    # the autoscaling library's figure, so the simulator and the scaler agree.
    capacity_per_replica: float = field(default_factory=library_capacity_per_replica)
    min_replicas: int = 1
    max_replicas: int = 20
    # Time from KEDA adding a pod to it serving (image pull, start-up, readiness).
    cold_start_seconds: float = 120.0
    # HPA knobs inside the reactive and hybrid policies; None keeps the library's
    # frozen defaults (target 0.7 for hpa, 0.8 inside the hybrid; 5-minute scale-down stabilisation).
    target_utilisation: float | None = None
    scale_down_stabilisation_seconds: float | None = None
    # IsActive is false while the rate stays at or below this (KEDA's scale-to-zero switch).
    activation_request_rate: float = 0.0
    step_seconds: float = 60.0
    scrape_interval: float = 15.0
    policy: str = "auto"

    def live(self) -> LiveScalingSettings:
        return LiveScalingSettings(
            capacity_per_replica=self.capacity_per_replica,
            step_seconds=self.step_seconds,
            cold_start_seconds=self.cold_start_seconds,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            hpa_target_utilisation=self.target_utilisation,
            scale_down_stabilisation_seconds=self.scale_down_stabilisation_seconds,
        )


# KEDA metadata keys are camelCase strings; map each to a field and its parser.
_KEYS: dict[str, str] = {
    "metricsUrl": "metrics_url",
    "counter": "counter",
    "capacityPerReplica": "capacity_per_replica",
    "minReplicas": "min_replicas",
    "maxReplicas": "max_replicas",
    "coldStartSeconds": "cold_start_seconds",
    "targetUtilisation": "target_utilisation",
    "scaleDownStabilisationSeconds": "scale_down_stabilisation_seconds",
    "activationRequestRate": "activation_request_rate",
    "stepSeconds": "step_seconds",
    "scrapeInterval": "scrape_interval",
    "policy": "policy",
}
_TYPES = {f.name: f.type for f in fields(TargetSettings)}


class MetadataError(ValueError):
    """A ScaledObject's trigger metadata cannot be used; reported to KEDA as INVALID_ARGUMENT."""


# KEDA passes the whole trigger metadata, its own connection keys included.
_KEDA_KEYS = frozenset({"scalerAddress", "enableTLS", "unsafeSsl"})
# KEDA resolves `<key>FromEnv: VAR` from the target's environment and passes the
# value under the same `...FromEnv` key.
_FROM_ENV = "FromEnv"


def settings_from_metadata(metadata: Mapping[str, str], defaults: TargetSettings) -> TargetSettings:
    ours: dict[str, str] = {}
    for key, raw in metadata.items():
        if key in _KEDA_KEYS:
            continue
        plain = key.removesuffix(_FROM_ENV) if key.endswith(_FROM_ENV) else key
        ours[plain] = raw
    # Unknown keys are typos in a ScaledObject: refuse them rather than silently use a default.
    unknown = sorted(set(ours) - set(_KEYS))
    if unknown:
        raise MetadataError(f"unknown scaler metadata keys: {', '.join(unknown)}")
    changes: dict[str, object] = {}
    for key, raw in ours.items():
        name = _KEYS[key]
        kind = str(_TYPES[name])
        try:
            if kind.startswith("int"):
                changes[name] = int(raw)
            elif kind.startswith("float"):
                changes[name] = float(raw)
            else:
                changes[name] = raw
        except ValueError as exc:
            raise MetadataError(f"scaler metadata {key}={raw!r}: {exc}") from exc
    settings = replace(defaults, **changes)  # type: ignore[arg-type]
    validate(settings)
    return settings


def validate(settings: TargetSettings) -> None:
    if not 1 <= settings.min_replicas <= settings.max_replicas:
        raise MetadataError("need 1 <= minReplicas <= maxReplicas")
    if settings.capacity_per_replica <= 0 or settings.step_seconds <= 0 or settings.scrape_interval <= 0:
        raise MetadataError("capacityPerReplica, stepSeconds and scrapeInterval must be positive")
    if settings.target_utilisation is not None and not 0 < settings.target_utilisation <= 1:
        raise MetadataError("targetUtilisation must be in (0, 1]")
    if settings.cold_start_seconds < 0:
        raise MetadataError("coldStartSeconds must not be negative")
    if settings.policy not in POLICY_NAMES:
        raise MetadataError(f"policy must be one of {', '.join(POLICY_NAMES)}")
    if not settings.metrics_url.startswith(("http://", "https://")):
        raise MetadataError("metricsUrl must be an http(s) URL")
