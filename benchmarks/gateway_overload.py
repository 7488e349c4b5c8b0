"""Overload: booking-creation latency and lost requests with adaptive load shedding vs without.

Same run, same seeded database (the platform benchmark's tenant: 1 shop, 40 barbers, SQLite),
read cache off so that browsing is real work. The server (uvicorn, 1 worker) is pinned to
CPU 0; wrk and the booking probe (this process) to CPU 1, so the generator does not take the
server's CPU.
1. capacity C: wrk browses 1,200 distinct availability queries, closed loop, 16 connections,
   against a server with shedding off -> C good answers per second;
2. per mode (baseline: shedding off; shipped: shedding on), on a fresh server:
   a. unloaded: a probe creates bookings one at a time at 10/s (distinct free slots) -> p50/p99;
   b. overload: wrk browses open-loop at 3 x C (a Lua schedule of send times, as wrk2 does,
      256 connections), while the probe keeps creating bookings.
Reported: the offered rate (target) and the achieved one (answers per second, shed ones
included) and how far the schedule fell behind (a server that holds its answers keeps
connections busy, so it throttles an open-loop generator too once all connections wait);
booking p99 under overload / unloaded p99; answers by status (none may be a 500); wrk's
socket errors (timeouts = requests without an answer); bookings shed or unanswered; the
concurrency limit at the end; and the share of the server's core that other processes used
during each phase (this machine is shared: interference shows up there).

    make bench-tools
    .venv/bin/python benchmarks/gateway_overload.py [--seconds 15]
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
-- Open-loop pacing (as wrk2 does): the thread keeps a schedule of send times at `interval_ms`
-- apart; a connection that comes free waits for the next slot, or sends at once when the
-- schedule is behind. A slow server therefore does not slow the offered load down, as long
-- as free connections remain. interval_ms = 0: closed loop (each connection as fast as it can).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bp_timespec;
int clock_gettime(int clock, bp_timespec *ts);
]]
local ts = ffi.new("bp_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local paths = {}
local index = 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args)
  counts = {}
  interval_ms = tonumber(args[2]) or 0
  slot = nil
  started = now_ms()
  local f = io.open(args[1], "r")
  for line in f:lines() do paths[#paths + 1] = line end
  f:close()
end
request = function()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1])
end
delay = function()
  if interval_ms <= 0 then return 0 end
  local now = now_ms()
  slot = (slot or now) + interval_ms
  if slot <= now then return 0 end
  return slot - now
end
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  behind_ms = slot and math.max(0, now_ms() - slot) or 0
end
done = function(summary, latency, requests)
  local merged = {}
  local behind = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do merged[status] = (merged[status] or 0) + n end
    behind = math.max(behind, thread:get("behind_ms") or 0)
  end
  local parts = {}
  for status, n in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  io.write("STATUS_COUNTS {" .. table.concat(parts, ", ") .. "}\\n")
  io.write(string.format("BEHIND_MS %.1f\\n", behind))
end
"""


SERVER_CPU = "0"  # the server alone on one core ...
CLIENT_CPU = 1  # ... wrk and the booking probe on the other, so they do not steal its CPU
OVERLOAD_CONNECTIONS = 256  # enough free connections to keep the open-loop schedule at 3 x C
CAPACITY_CONNECTIONS = 16


def wrk_browse(
    base: str, connections: int, seconds: int, script: Path, paths: Path, interval_ms: float = 0.0
) -> dict[str, object]:
    command = [
        "taskset",
        "-c",
        str(CLIENT_CPU),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Host: {HOST}",
        "-s",
        str(script),
        base,
        "--",
        str(paths),
        f"{interval_ms:.4f}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    result: dict[str, object] = dict(parse_wrk(output))
    for line in output.splitlines():
        if line.startswith("STATUS_COUNTS "):
            result["statuses"] = json.loads(line.removeprefix("STATUS_COUNTS "))
        elif line.startswith("BEHIND_MS "):
            result["schedule_behind_ms"] = float(line.removeprefix("BEHIND_MS "))
    return result


class Probe:
    """Creates bookings one after another (each a distinct free slot) and times them."""

    def __init__(self, base: str, bodies: list[str], rate: float) -> None:
        self.base = base
        self.bodies = bodies
        self.interval = 1 / rate
        self.next = 0

    def run(self, seconds: float) -> list[tuple[int, float]]:
        taken: list[tuple[int, float]] = []
        with httpx.Client(
            base_url=self.base, headers={"host": HOST, "content-type": "application/json"}, timeout=30
        ) as client:
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


class CpuWatch:
    """Share of the server's core used by other processes (other work on this machine) over a
    phase: the core's busy time minus the server's own CPU time. Interference shows up here."""

    def __init__(self, core: int, pid: int) -> None:
        self.core = core
        self.pid = pid
        self.start = self._read()

    def _read(self) -> tuple[float, float, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith(f"cpu{self.core} "):
                fields = [int(v) for v in line.split()[1:]]
                busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        server = int(stat[11]) + int(stat[12])  # utime + stime
        return busy / ticks, server / ticks, time.monotonic()

    def foreign_share(self) -> float:
        busy, server, now = self._read()
        elapsed = now - self.start[2]
        return round(max(0.0, (busy - self.start[0]) - (server - self.start[1])) / elapsed, 3)


ENV_OFF = {"BARBERPRO_RATE_LIMIT_ENABLED": "false", "BARBERPRO_READ_CACHE_ENABLED": "false"}


def measure_capacity(database: str, tmp: Path, seconds: int, script: Path, paths: Path) -> float:
    """Good answers per second of browsing at saturation, shedding off, same pinning."""
    with server(database, tmp, cpus=SERVER_CPU, BARBERPRO_LOAD_SHEDDING_ENABLED="false", **ENV_OFF) as base:
        wrk_browse(base, CAPACITY_CONNECTIONS, 3, script, paths)  # warm-up
        return float(wrk_browse(base, CAPACITY_CONNECTIONS, seconds, script, paths)["rps"])  # type: ignore[arg-type]


def run_mode(
    mode: str,
    database: str,
    tmp: Path,
    bodies: list[str],
    offset: int,
    seconds: int,
    script: Path,
    paths: Path,
    capacity_rps: float,
    factor: float,
) -> dict[str, object]:
    shedding = "true" if mode == "shedding" else "false"
    info: dict[str, int] = {}
    with server(database, tmp, cpus=SERVER_CPU, info=info, BARBERPRO_LOAD_SHEDDING_ENABLED=shedding, **ENV_OFF) as base:
        probe = Probe(base, bodies[offset:], rate=10)
        probe.run(2)  # warm-up
        watch = CpuWatch(int(SERVER_CPU), info["pid"])
        unloaded = summarise(probe.run(seconds))
        unloaded["foreign_cpu_share"] = watch.foreign_share()
        watch = CpuWatch(int(SERVER_CPU), info["pid"])
        target_rps = factor * capacity_rps
        holder: dict[str, list[tuple[int, float]]] = {}

        def loaded_probe() -> None:
            time.sleep(1)  # let wrk reach its rate first
            holder["samples"] = probe.run(seconds)

        thread = threading.Thread(target=loaded_probe)
        thread.start()
        overload = wrk_browse(base, OVERLOAD_CONNECTIONS, seconds + 2, script, paths, 1000 / target_rps)
        thread.join()
        loaded = summarise(holder["samples"])
        loaded["foreign_cpu_share"] = watch.foreign_share()
        gauges = {
            line.split()[0]: float(line.split()[1])
            for line in httpx.get(f"{base}/metrics").text.splitlines()
            if line.startswith(
                (
                    "barberpro_gateway_concurrency_limit ",
                    "barberpro_gateway_shed_total ",
                    "barberpro_gateway_critical_gate_closed_total ",
                    "barberpro_gateway_browsing_paused_seconds_total ",
                )
            )
        }
    unloaded_p99 = unloaded["p99_ms"]
    loaded_p99 = loaded["p99_ms"]
    statuses: dict[str, int] = overload.get("statuses", {})  # type: ignore[assignment]
    answered = sum(statuses.values())
    return {
        "mode": mode,
        "booking_unloaded": unloaded,
        "browse_capacity_rps": capacity_rps,
        "browse_target_rps": round(target_rps, 1),
        "browse_overload": overload,
        "booking_overloaded": loaded,
        "gateway_after": gauges,
        "achieved_vs_capacity": round(float(overload["rps"]) / capacity_rps, 2),  # type: ignore[arg-type]
        "booking_p99_ratio": round(float(loaded_p99) / float(unloaded_p99), 2)  # type: ignore[arg-type]
        if loaded_p99 and unloaded_p99
        else None,
        "browse_shed": int(statuses.get("503", 0)),
        "browse_answered": answered,
        "browse_500s": int(statuses.get("500", 0)),
        "booking_500s": int(loaded["statuses"].get("500", 0)),  # type: ignore[union-attr]
        "booking_shed": int(loaded["statuses"].get("503", 0)),  # type: ignore[union-attr]
        "booking_unanswered": int(loaded["statuses"].get("0", 0)),  # type: ignore[union-attr]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--factor", type=float, default=3.0, help="offered load as a multiple of C")
    parser.add_argument("--modes", default="no_shedding,shedding")
    parser.add_argument("--capacity", type=float, help="skip measuring C (exploration only, not for figures)")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("wrk and taskset needed: run `make bench-tools` first")
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("needs two cores: the server on one, the load generator on the other")
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
    os.sched_setaffinity(0, {CLIENT_CPU})  # the probe runs in this process: keep it off the server's core
    results = []
    try:
        capacity = args.capacity or measure_capacity(database, tmp, args.seconds, tmp / "browse.lua", tmp / "paths.txt")
        for index, mode in enumerate(args.modes.split(",")):
            results.append(
                run_mode(
                    mode,
                    database,
                    tmp,
                    bodies,
                    10_000 * index,
                    args.seconds,
                    tmp / "browse.lua",
                    tmp / "paths.txt",
                    capacity,
                    args.factor,
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    keys = (
        "achieved_vs_capacity",
        "booking_p99_ratio",
        "browse_shed",
        "browse_500s",
        "booking_500s",
        "booking_shed",
        "booking_unanswered",
    )
    print(
        json.dumps(
            {
                "benchmark": "gateway_overload",
                "server": f"uvicorn, 1 worker, SQLite, read cache off, pinned to CPU {SERVER_CPU}",
                "load_generator": f"wrk -t1 open-loop at {args.factor} x C ({OVERLOAD_CONNECTIONS} connections) "
                f"+ one booking probe at 10/s, pinned to CPU {CLIENT_CPU}",
                "cpu_count": os.cpu_count(),
                "summary": {r["mode"]: {k: r[k] for k in keys} for r in results},
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
