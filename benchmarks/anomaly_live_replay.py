"""How often the live monitor test's normal day would alert, measured on a long replay.

Starts the live monitor test's server and traffic generator (`tests/integration/
test_anomaly_monitor.py`, same rate, same compressed day), records every series the monitor
derives from the server's `/metrics` for `--days` synthetic days, then judges every day that has
`W` days before it: fresh detectors (the shipped `StreamingDetector` and threshold) warm up on
those W days and the next day must raise nothing. Prints JSON: per warm-up length, how many
judged days alerted and on which series. Days overlap between judgements (a sliding start), so
the counts are rates with their noise, not independent trials.

    .venv/bin/python benchmarks/anomaly_live_replay.py --days 60 --warmups 15,25            # processes unpinned
    .venv/bin/python benchmarks/anomaly_live_replay.py --days 60 --warmups 15,25 --pin      # as the test runs them

A 60-day recording takes about 10 minutes.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT / "tests")]


def record(days: int, pin: bool) -> list[tuple[int, str, float, float | None]]:
    """(tick, series, value, timestamp) for every value the monitor would score."""
    import httpx
    import test_anomaly_monitor as live

    from barberpro.ops.anomaly.monitor import Monitor, MonitorSettings

    def spawn(*args: str) -> Any:
        proc = live._spawn(*args)  # pinned as in the test ...
        if not pin:  # ... or not: undone at once, before the child starts any thread
            os.sched_setaffinity(proc.pid, os.sched_getaffinity(0))
        return proc

    workdir = Path(tempfile.mkdtemp())
    port = live._free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [spawn("serve", str(port), str(workdir))]
    try:
        while True:
            try:
                httpx.get(f"{url}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        procs.append(spawn("traffic", url, str(workdir), str(live.DAY_SECONDS), str(live.RATE)))
        time.sleep(2.0)
        settings = MonitorSettings(urls=(f"{url}/metrics",), interval=live.INTERVAL, window=live.WINDOW)
        monitor = Monitor(settings)
        rows: list[tuple[int, str, float, float | None]] = []
        now_tick = [0]

        def keep(key: str, value: float, timestamp: float | None = None) -> float:
            rows.append((now_tick[0], key, value, timestamp))
            return 0.0

        monitor.bank.update = keep  # type: ignore[method-assign]
        next_at = time.monotonic()
        for tick in range(int(days * live.DAY_SECONDS / live.INTERVAL)):
            now_tick[0] = tick
            next_at += live.INTERVAL
            time.sleep(max(0.0, next_at - time.monotonic()))
            monitor.tick()
        return rows
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def judge(rows: list[tuple[int, str, float, float | None]], warmup_days: int, ticks_per_day: int) -> dict[str, Any]:
    from barberpro.ops.anomaly.detector import DEFAULT_CONFIG, DEFAULT_THRESHOLD, StreamingDetector

    per_tick: dict[int, list[tuple[str, float, float | None]]] = collections.defaultdict(list)
    for tick, key, value, timestamp in rows:
        per_tick[tick].append((key, value, timestamp))
    days = (max(per_tick) + 1) // ticks_per_day
    config = replace(DEFAULT_CONFIG, warmup=warmup_days * ticks_per_day)
    alerted, judged, series = 0, 0, collections.Counter[str]()
    for start_day in range(days - warmup_days - 1):
        detectors: dict[str, StreamingDetector] = {}
        first, judged_from = start_day * ticks_per_day, (start_day + warmup_days) * ticks_per_day
        hit: set[str] = set()
        for tick in range(first, judged_from + ticks_per_day):
            for key, value, timestamp in per_tick.get(tick, []):
                score = detectors.setdefault(key, StreamingDetector(config)).update(value, timestamp)
                if tick >= judged_from and score >= DEFAULT_THRESHOLD:
                    hit.add(key)
        judged += 1
        alerted += bool(hit)
        series.update(hit)
    return {"warmup_days": warmup_days, "judged_days": judged, "alerted_days": alerted, "series": dict(series)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--warmups", default="15,25", help="warm-up lengths in synthetic days, comma-separated")
    parser.add_argument("--pin", action="store_true", help="server and traffic on CPUs of their own, as the test")
    parser.add_argument("--recording", help="a JSON file of rows to judge again instead of recording")
    parser.add_argument("--save", help="write the recorded rows here")
    args = parser.parse_args()
    import test_anomaly_monitor as live

    if args.recording:
        rows = [tuple(r) for r in json.loads(Path(args.recording).read_text())]
    else:
        rows = record(args.days, args.pin)
        if args.save:
            Path(args.save).write_text(json.dumps(rows))
    ticks_per_day = round(live.DAY_SECONDS / live.INTERVAL)
    report = {
        "pinned": None if args.recording else args.pin,  # a recording does not say
        "days_recorded": None if args.recording else args.days,
        "judgements": [judge(rows, int(w), ticks_per_day) for w in args.warmups.split(",")],
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
