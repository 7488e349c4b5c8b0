"""Overload: booking-creation latency and lost requests with adaptive load shedding vs without.

Same run, same seeded database (the platform benchmark's tenant: 1 shop, 40 barbers, SQLite),
read cache off so that browsing is real work. For each mode (baseline: shedding off;
shipped: shedding on) on a fresh uvicorn (1 worker):
1. unloaded: a probe creates bookings one at a time (distinct free slots) -> p50/p99;
2. capacity: wrk browses 1,200 distinct availability queries with 16 connections -> C req/s;
3. overload: wrk browses at 3 x C, paced (96 connections, each waiting 96 / (3 C) s between
   requests, so that a shed request is not retried at once: real clients honour
   Retry-After), while the probe keeps creating bookings. The offered rate is reported as
   measured (answers per second, shed ones included) and as a multiple of C; when the server
   cannot keep up (no shedding), paced connections wait for their answers and the achieved
   rate falls below the target.
Reported: booking p99 under overload / unloaded p99, answers by status (none may be a 500)
and wrk's socket errors (timeouts = requests that got no answer). wrk and the probe share
the two cores with the server.

    make bench-tools
    .venv/bin/python benchmarks/gateway_overload.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from api_throughput import booking_bodies, parse_wrk, seed
from gateway_server import HOST, server

LUA_BROWSE = """
local paths = {}
local index = 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args)
  counts = {}
  pause_ms = tonumber(args[2]) or 0
  local f = io.open(args[1], "r")
  for line in f:lines() do paths[#paths + 1] = line end
  f:close()
end
request = function()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1])
end
delay = function()
  return pause_ms
end
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
done = function(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do merged[status] = (merged[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  io.write("STATUS_COUNTS {" .. table.concat(parts, ", ") .. "}\\n")
end
"""


def wrk_browse(base: str, connections: int, seconds: int, script: Path, paths: Path,
               pause_ms: int = 0) -> dict[str, object]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
               "-H", f"Host: {HOST}", "-s", str(script), base, "--", str(paths), str(pause_ms)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    result: dict[str, object] = dict(parse_wrk(output))
    for line in output.splitlines():
        if line.startswith("STATUS_COUNTS "):
            result["statuses"] = json.loads(line.removeprefix("STATUS_COUNTS "))
    return result


class Probe:
    """Creates bookings one after another (each a distinct free slot) and times them."""

    def __init__(self, base: str, bodies: list[str], rate: float) -> None:
        self.base = base
        self.bodies = bodies
        self.interval = 1 / rate
        self.next = 0
        self.samples: list[tuple[int, float]] = []

    def run(self, seconds: float) -> list[tuple[int, float]]:
        taken: list[tuple[int, float]] = []
        with httpx.Client(base_url=self.base, headers={"host": HOST, "content-type": "application/json"},
                          timeout=30) as client:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                body = self.bodies[self.next]
                self.next += 1
                started = time.perf_counter()
                try:
                    status = client.post("/api/v1/bookings", content=body).status_code
                except httpx.HTTPError:
                    status = 0  # no answer
                taken.append((status, (time.perf_counter() - started) * 1000))
                time.sleep(max(0.0, self.interval - (time.perf_counter() - started)))
        return taken


def summarise(samples: list[tuple[int, float]]) -> dict[str, object]:
    admitted = sorted(ms for status, ms in samples if status in (201, 409))
    statuses: dict[str, int] = {}
    for status, _ in samples:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def pct(q: float) -> float | None:
        return round(admitted[min(len(admitted) - 1, int(q * len(admitted)))], 2) if admitted else None

    return {"count": len(samples), "statuses": statuses, "p50_ms": pct(0.5), "p99_ms": pct(0.99)}


OVERLOAD_CONNECTIONS = 96


def measure_capacity(database: str, tmp: Path, seconds: int, script: Path, paths: Path) -> float:
    """Good answers per second of browsing at saturation, shedding off."""
    env = {"BARBERPRO_RATE_LIMIT_ENABLED": "false", "BARBERPRO_READ_CACHE_ENABLED": "false",
           "BARBERPRO_LOAD_SHEDDING_ENABLED": "false"}
    with server(database, tmp, **env) as base:
        wrk_browse(base, 16, 3, script, paths)  # warm-up
        return float(wrk_browse(base, 16, seconds, script, paths)["rps"])  # type: ignore[arg-type]


def run_mode(mode: str, database: str, tmp: Path, bodies: list[str], offset: int, seconds: int,
             script: Path, paths: Path, capacity_rps: float) -> dict[str, object]:
    env = {"BARBERPRO_RATE_LIMIT_ENABLED": "false", "BARBERPRO_READ_CACHE_ENABLED": "false",
           "BARBERPRO_LOAD_SHEDDING_ENABLED": "true" if mode == "shedding" else "false"}
    with server(database, tmp, **env) as base:
        probe = Probe(base, bodies[offset:], rate=10)
        probe.run(2)  # warm-up
        unloaded = summarise(probe.run(seconds))
        pause_ms = int(1000 * OVERLOAD_CONNECTIONS / (3 * capacity_rps))
        holder: dict[str, list[tuple[int, float]]] = {}
        thread = threading.Thread(target=lambda: holder.setdefault("samples", probe.run(seconds)))
        thread.start()
        overload = wrk_browse(base, OVERLOAD_CONNECTIONS, seconds + 2, script, paths, pause_ms)
        thread.join()
        loaded = summarise(holder["samples"])
    unloaded_p99 = unloaded["p99_ms"]
    loaded_p99 = loaded["p99_ms"]
    return {
        "mode": mode,
        "booking_unloaded": unloaded,
        "browse_capacity_rps": capacity_rps,
        "overload_pause_ms": pause_ms,
        "browse_overload": overload,
        "booking_overloaded": loaded,
        "offered_vs_capacity": round(float(overload["rps"]) / capacity_rps, 2),  # type: ignore[arg-type]
        "booking_p99_ratio": round(float(loaded_p99) / float(unloaded_p99), 2)  # type: ignore[arg-type]
        if loaded_p99 and unloaded_p99 else None,
        "browse_500s": int(overload.get("statuses", {}).get("500", 0)),  # type: ignore[union-attr]
        "booking_500s": int(loaded["statuses"].get("500", 0)),  # type: ignore[union-attr]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: run `make bench-tools` first")
    tmp = Path(tempfile.mkdtemp(prefix="barberpro-gateway-overload-"))
    database = f"sqlite:///{tmp}/bench.db"
    data = seed(database, tmp)
    booking_bodies(data, tmp / "bodies.jsonl", 20_000)
    bodies = (tmp / "bodies.jsonl").read_text().splitlines()
    first = date.today() + timedelta(days=2)
    paths = [
        f"/api/v1/shops/{data['shop_id']}/availability?service_id={data['service_id']}"
        f"&date={(first + timedelta(days=d)).isoformat()}&barber_id={barber}"
        for d in range(30)
        for barber in data["barbers"]  # type: ignore[attr-defined]
    ]
    (tmp / "paths.txt").write_text("\n".join(paths) + "\n")
    (tmp / "browse.lua").write_text(LUA_BROWSE)
    results = []
    try:
        capacity = measure_capacity(database, tmp, args.seconds, tmp / "browse.lua", tmp / "paths.txt")
        for index, mode in enumerate(("no_shedding", "shedding")):
            results.append(run_mode(mode, database, tmp, bodies, 10_000 * index, args.seconds,
                                    tmp / "browse.lua", tmp / "paths.txt", capacity))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({
        "benchmark": "gateway_overload",
        "server": "uvicorn, 1 worker, SQLite, read cache off",
        "load_generator": "wrk -t1 (browsing) + one booking probe at 10/s, on the same 2 cores",
        "cpu_count": os.cpu_count(),
        "summary": {r["mode"]: {k: r[k] for k in ("offered_vs_capacity", "booking_p99_ratio", "browse_500s",
                                                  "booking_500s")} for r in results},
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
