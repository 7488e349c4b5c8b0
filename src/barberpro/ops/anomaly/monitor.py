"""Live monitor: scrape Prometheus metrics, score every series, raise alerts.

Sources are Prometheus text endpoints given by URL and, in-process, a ``CollectorRegistry``.
Each tick scrapes every source, derives per-interval series (rates, latency mean and p95,
error ratio; see ``prometheus_series``), feeds each to its own streaming detector and, when a
score reaches the threshold, raises an alert three ways: one structured log line, the gauges
``barberpro_anomaly_score`` / ``barberpro_anomaly_alerts_total``, and a JSON webhook POST
signed with HMAC-SHA256 and retried with backoff on failure.

Alerts for one series closer together than the refractory period form one incident and are
sent once. Memory is bounded: at most ``max_series`` detectors are kept, least recently seen
evicted first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

import structlog

from barberpro.ops.anomaly.detector import (
    DEFAULT_CONFIG,
    DEFAULT_THRESHOLD,
    DetectorConfig,
    StreamingDetector,
)
from barberpro.ops.anomaly.prometheus_series import SeriesDeriver, parse_text
from barberpro.ops.anomaly.webhook import WebhookSender

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = structlog.get_logger("barberpro.anomaly")


@dataclass(frozen=True)
class MonitorSettings:
    urls: tuple[str, ...] = ()
    interval: float = 15.0
    # None: the detector's one global threshold. A site that wants fewer, surer pages may raise it
    # here (a configuration choice; docs/anomaly.md gives nab-dev figures per threshold).
    threshold: float | None = None
    warmup: int | None = None  # samples per series before it may alert
    refractory: int = 20  # samples: alerts of one series closer than this are one incident
    # Series whose key contains one of these are not scored: the scrape route's own request
    # rate is the scraper's schedule (always one request per scrape), so its wiggles are the
    # monitor's timing jitter, not the platform's behaviour.
    exclude: tuple[str, ...] = ('route="/metrics"',)
    min_observations: int = 20  # fewer in an interval make a latency mean missing (SeriesDeriver)
    window: int = 2  # scrape intervals each rate, ratio and mean spans (SeriesDeriver)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_attempts: int = 4
    max_series: int = 50_000
    metrics_port: int = 0
    scrape_timeout: float = 5.0


@dataclass(frozen=True)
class Alert:
    series: str
    score: float
    value: float
    at: float  # unix time of the scrape
    source: str


class DetectorBank:
    """One detector per series, at most ``max_series`` of them (least recently updated evicted)."""

    def __init__(self, config: DetectorConfig, max_series: int) -> None:
        self._config = config
        self._max = max_series
        self._detectors: OrderedDict[str, StreamingDetector] = OrderedDict()

    def update(self, key: str, value: float, timestamp: float | None = None) -> float:
        det = self._detectors.get(key)
        if det is None:
            det = StreamingDetector(self._config)
            self._detectors[key] = det
            if len(self._detectors) > self._max:
                self._detectors.popitem(last=False)
        else:
            self._detectors.move_to_end(key)
        return det.update(value, timestamp)

    def __len__(self) -> int:
        return len(self._detectors)


class Monitor:
    def __init__(
        self,
        settings: MonitorSettings,
        registry: CollectorRegistry | None = None,
        exposition_registry: CollectorRegistry | None = None,
        fetch: Callable[[str], str] | None = None,
    ) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.settings = settings
        self.threshold = DEFAULT_THRESHOLD if settings.threshold is None else settings.threshold
        config = DEFAULT_CONFIG if settings.warmup is None else replace(DEFAULT_CONFIG, warmup=settings.warmup)
        self.bank = DetectorBank(config, settings.max_series)
        self._registry = registry
        self._fetch = fetch or self._http_fetch
        self._derivers: dict[str, SeriesDeriver] = {}
        self._last_alert_tick: dict[str, int] = {}
        self._tick = 0
        self.exposition = exposition_registry or CollectorRegistry()
        self.score_gauge = Gauge(
            "barberpro_anomaly_score",
            "Latest anomaly score per monitored series",
            ["series"],
            registry=self.exposition,
        )
        self.alerts_total = Counter(
            "barberpro_anomaly_alerts",
            "Anomaly incidents raised per series",
            ["series"],
            registry=self.exposition,
        )
        self.webhook = None
        if settings.webhook_url:
            self.webhook = WebhookSender(
                settings.webhook_url, settings.webhook_secret or "", attempts=settings.webhook_attempts
            )

    def _http_fetch(self, url: str) -> str:
        import httpx

        response = httpx.get(url, timeout=self.settings.scrape_timeout)
        response.raise_for_status()
        return response.text

    def _sources(self) -> list[tuple[str, Callable[[], str]]]:
        out: list[tuple[str, Callable[[], str]]] = [(u, partial(self._fetch, u)) for u in self.settings.urls]
        if self._registry is not None:
            from prometheus_client import generate_latest

            registry = self._registry
            out.append(("in-process", lambda: generate_latest(registry).decode()))
        return out

    def tick(self, now: float | None = None) -> list[Alert]:
        """Scrape every source once, score every derived series, raise and return new incidents."""
        fixed_time = now
        self._tick += 1
        alerts: list[Alert] = []
        for source, read in self._sources():
            try:
                text = read()
            except Exception as exc:  # a dead target must not stop the others being watched
                log.warning("anomaly.scrape_failed", source=source, error=str(exc))
                continue
            # Rates divide by the time between two snapshots: stamp each when it arrived, so a
            # slow scrape of one target does not distort another target's rates.
            now = time.time() if fixed_time is None else fixed_time
            try:
                families = parse_text(text)
            except ValueError as exc:
                log.warning("anomaly.scrape_unparsable", source=source, error=str(exc))
                continue
            deriver = self._derivers.get(source)
            if deriver is None:
                deriver = SeriesDeriver(min_observations=self.settings.min_observations, window=self.settings.window)
                self._derivers[source] = deriver
            for key, value in deriver.derive(families, now).items():
                if any(part in key for part in self.settings.exclude):
                    continue
                series = f"{source} {key}" if len(self._derivers) > 1 else key
                score = self.bank.update(series, value, now)
                self.score_gauge.labels(series=series).set(score)
                if score < self.threshold:
                    continue
                last = self._last_alert_tick.get(series)
                self._last_alert_tick[series] = self._tick
                if last is not None and self._tick - last <= self.settings.refractory:
                    continue  # same incident as an alert moments ago
                alert = Alert(series, score, value, now, source)
                alerts.append(alert)
                self._raise(alert)
        return alerts

    def _raise(self, alert: Alert) -> None:
        self.alerts_total.labels(series=alert.series).inc()
        log.warning(
            "anomaly.alert",
            series=alert.series,
            score=round(alert.score, 4),
            value=alert.value,
            source=alert.source,
            threshold=self.threshold,
            at=alert.at,
        )
        if self.webhook is not None:
            self.webhook.send(
                {
                    "type": "barberpro.anomaly.alert",
                    "series": alert.series,
                    "score": alert.score,
                    "value": alert.value,
                    "threshold": self.threshold,
                    "at": alert.at,
                    "source": alert.source,
                }
            )

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()


def run_monitor(settings: MonitorSettings, iterations: int | None = None) -> None:
    """Tick every ``interval`` seconds (drift-free) until interrupted or ``iterations`` reached."""
    monitor = Monitor(settings)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, registry=monitor.exposition)
    log.info(
        "anomaly.watch_started",
        urls=list(settings.urls),
        interval=settings.interval,
        threshold=monitor.threshold,
    )
    next_at = time.monotonic()
    done = 0
    try:
        while iterations is None or done < iterations:
            monitor.tick()
            done += 1
            next_at += settings.interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        monitor.close()
