"""Prometheus series derivation, webhook signatures, bounded detector bank, monitor on a real registry."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from barberpro.ops.anomaly.detector import DEFAULT_CONFIG, DEFAULT_THRESHOLD
from barberpro.ops.anomaly.monitor import DetectorBank, Monitor, MonitorSettings
from barberpro.ops.anomaly.prometheus_series import SeriesDeriver, parse_text
from barberpro.ops.anomaly.webhook import sign, verify

TEXT_1 = """# TYPE req_total counter
req_total{route="/a",status="200"} 100
req_total{route="/a",status="500"} 0
# TYPE lat histogram
lat_bucket{route="/a",le="0.1"} 10
lat_bucket{route="/a",le="0.5"} 20
lat_bucket{route="/a",le="+Inf"} 20
lat_sum{route="/a"} 3.0
lat_count{route="/a"} 20
# TYPE q gauge
q 7
"""
TEXT_2 = """# TYPE req_total counter
req_total{route="/a",status="200"} 190
req_total{route="/a",status="500"} 10
# TYPE lat histogram
lat_bucket{route="/a",le="0.1"} 10
lat_bucket{route="/a",le="0.5"} 60
lat_bucket{route="/a",le="+Inf"} 60
lat_sum{route="/a"} 15.0
lat_count{route="/a"} 60
# TYPE q gauge
q 9
"""


def test_counters_become_rates_histograms_mean_and_p95_and_error_ratio() -> None:
    d = SeriesDeriver(quantile=0.95, min_observations=1)
    assert d.derive(parse_text(TEXT_1), now=0.0) == {}
    out = d.derive(parse_text(TEXT_2), now=10.0)
    assert out['req_total:rate{route="/a",status="200"}'] == 9.0
    assert out['req_total:rate{route="/a",status="500"}'] == 1.0
    assert out["req:error_ratio"] == pytest.approx(0.1)
    assert out['lat:mean{route="/a"}'] == pytest.approx(12.0 / 40)
    # 40 new observations, all in (0.1, 0.5]: rank 38 -> 0.1 + 0.4 * 38/40
    assert out['lat:p95{route="/a"}'] == pytest.approx(0.1 + 0.4 * 38 / 40)
    assert out["q"] == 9.0


def test_counter_reset_counts_the_new_value_as_the_increase() -> None:
    d = SeriesDeriver()
    d.derive(parse_text(TEXT_2), now=0.0)
    out = d.derive(parse_text(TEXT_1), now=10.0)
    assert out['req_total:rate{route="/a",status="200"}'] == 10.0


def test_interval_without_enough_observations_is_missing_not_zero_latency() -> None:
    d = SeriesDeriver()
    d.derive(parse_text(TEXT_1), now=0.0)
    out = d.derive(parse_text(TEXT_1), now=10.0)
    assert math.isnan(out['lat:mean{route="/a"}'])
    d = SeriesDeriver(min_observations=50)  # TEXT_2 adds only 40 observations
    d.derive(parse_text(TEXT_1), now=0.0)
    assert math.isnan(d.derive(parse_text(TEXT_2), now=10.0)['lat:mean{route="/a"}'])


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"a":1}'
    header = sign("s3cret", 1_700_000_000, body)
    assert verify("s3cret", header, body, now=1_700_000_010)
    assert not verify("s3cret", header, b'{"a":2}', now=1_700_000_010)
    assert not verify("other", header, body, now=1_700_000_010)
    assert not verify("s3cret", header, body, now=1_700_009_999)  # replayed too late
    assert not verify("s3cret", "garbage", body)


def test_detector_bank_is_bounded() -> None:
    bank = DetectorBank(DEFAULT_CONFIG, max_series=100)
    for i in range(1000):
        bank.update(f"s{i}", 1.0)
    assert len(bank) == 100


def test_monitor_on_in_process_registry_alerts_on_a_jump() -> None:
    registry = CollectorRegistry()
    depth = Gauge("barberpro_queue_depth", "queue depth", registry=registry)
    hits = Counter("barberpro_hits", "hits", registry=registry)
    lat = Histogram("barberpro_lat_seconds", "latency", registry=registry)
    monitor = Monitor(MonitorSettings(warmup=60), registry=registry)
    alerts = []
    for i in range(300):
        depth.set(10 + (i % 7))
        hits.inc(50 + (i % 5))
        for k in range(20):
            lat.observe(0.05 + 0.001 * ((i + k) % 9))
        if i == 250:
            depth.set(400)
        alerts += [(i, a.series) for a in monitor.tick(now=1_700_000_000 + 15.0 * i)]
    assert (250, "barberpro_queue_depth") in alerts
    assert all(i >= 250 for i, _ in alerts), alerts
    exposed = {
        s.labels["series"]: s.value
        for m in monitor.exposition.collect()
        for s in m.samples
        if s.name == "barberpro_anomaly_alerts_total"
    }
    assert exposed.get("barberpro_queue_depth") == 1.0


def test_monitor_uses_the_one_global_threshold_and_skips_the_scrape_route() -> None:
    registry = CollectorRegistry()
    requests = Counter("barberpro_http_requests", "requests", ["route", "status"], registry=registry)
    monitor = Monitor(MonitorSettings(warmup=5), registry=registry)
    assert monitor.threshold == DEFAULT_THRESHOLD
    for i in range(20):
        requests.labels("/metrics", "200").inc()
        requests.labels("/api/v1/bookings", "200").inc(10 + i % 3)
        monitor.tick(now=1_700_000_000 + 15.0 * i)
    scored = {
        s.labels["series"]
        for m in monitor.exposition.collect()
        for s in m.samples
        if s.name == "barberpro_anomaly_score"
    }
    assert any('route="/api/v1/bookings"' in k for k in scored), scored
    assert not any('route="/metrics"' in k for k in scored), scored
    # A site that wants fewer pages raises the threshold in its settings; there is no second default.
    assert Monitor(MonitorSettings(threshold=0.9), registry=registry).threshold == 0.9
