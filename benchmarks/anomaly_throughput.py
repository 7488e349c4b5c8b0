"""Detector speed on one series, and many series at once in bounded memory. Prints JSON.

* single series: points per second through ``StreamingDetector.update`` on one core, median of
  five runs, next to the rolling z-score baseline measured in the same run;
* many series: ``--series`` detectors in one ``DetectorBank``, each fed ``--rounds`` points;
  memory per series measured with tracemalloc (Python allocations of the detectors' state).

    .venv/bin/python benchmarks/anomaly_throughput.py [--points 200000] [--series 50000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc

import numpy as np

from barberpro.ops.anomaly.baselines import rolling_z_scores
from barberpro.ops.anomaly.detector import DEFAULT_CONFIG, StreamingDetector
from barberpro.ops.anomaly.monitor import DetectorBank


def single_series(points: int, runs: int = 5) -> dict[str, float]:
    rng = np.random.default_rng(0)
    t = np.arange(points) * 60.0
    values = (100 + 30 * np.sin(2 * np.pi * t / 86_400) + rng.normal(0, 3, points)).tolist()
    times = t.tolist()
    ours, base = [], []
    for _ in range(runs):
        det = StreamingDetector()
        update = det.update
        t0 = time.perf_counter()
        for v, ts in zip(values, times, strict=True):
            update(v, ts)
        ours.append(points / (time.perf_counter() - t0))
        arr = np.asarray(values)
        t0 = time.perf_counter()
        rolling_z_scores(arr)
        base.append(points / (time.perf_counter() - t0))
    return {
        "points": points,
        "detector_points_per_s_median": round(statistics.median(ours)),
        "rolling_z_points_per_s_median": round(statistics.median(base)),
        "ratio_detector_to_rolling_z": round(statistics.median(ours) / statistics.median(base), 3),
    }


def many_series(series: int, rounds: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 4096).tolist()
    keys = [f'barberpro_http_requests_total:rate{{route="/r{i}"}}' for i in range(series)]

    def feed(bank: DetectorBank, rounds: int) -> None:
        for r in range(rounds):
            ts = 1_700_000_000 + 15.0 * r
            for i, key in enumerate(keys):
                bank.update(key, 100.0 + noise[(i + r) % 4096], ts)

    # Speed without tracing (tracemalloc slows every allocation down).
    bank = DetectorBank(DEFAULT_CONFIG, max_series=series)
    t0 = time.perf_counter()
    feed(bank, rounds)
    elapsed = time.perf_counter() - t0
    del bank
    # Memory: what a full bank holds once every detector has seen a few points.
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    bank = DetectorBank(DEFAULT_CONFIG, max_series=series)
    feed(bank, 3)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    # Bounded: twice as many distinct series as the bank holds still keeps it at its cap.
    capped = DetectorBank(DEFAULT_CONFIG, max_series=series // 10)
    for i in range(series // 5):
        capped.update(f"s{i}", 1.0)
    return {
        "series": series,
        "rounds": rounds,
        "updates_per_s": round(series * rounds / elapsed),
        "bytes_per_series": round(grown / series),
        "total_mib": round(grown / 2**20, 1),
        "bank_cap_check": {"cap": series // 10, "offered": series // 5, "held": len(capped)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    out = {
        "benchmark": "anomaly_throughput",
        "single_series": single_series(args.points),
        "many_series": many_series(args.series, args.rounds),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
