"""Availability read throughput with the read cache vs without, in the same run.

Seeds the platform benchmark's tenant (1 shop, 40 barbers, SQLite file), then alternates
servers with BARBERPRO_READ_CACHE_ENABLED=false (baseline) and =true (shipped), `rounds`
times each. Every server is driven by wrk on loopback with a Lua script that rotates over
30 dates x 5 barbers (150 distinct availability queries); /hello on the same server is
the yardstick. Rate limiting and load shedding are off so that only the cache differs.
wrk shares the two cores with the server.

    make bench-tools
    .venv/bin/python benchmarks/gateway_cache.py [--rounds 3] [--seconds 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from api_throughput import run_wrk, seed
from gateway_server import HOST, server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

LUA_ROTATE = """
local paths = {}
local index = 0
init = function(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do paths[#paths + 1] = line end
  f:close()
end
request = function()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1])
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: run `make bench-tools` first")
    tmp = Path(tempfile.mkdtemp(prefix="barberpro-gateway-cache-"))
    database = f"sqlite:///{tmp}/bench.db"
    data = seed(database, tmp)
    first = date.today() + timedelta(days=2)
    paths = [
        f"/api/v1/shops/{data['shop_id']}/availability?service_id={data['service_id']}"
        f"&date={(first + timedelta(days=d)).isoformat()}&barber_id={barber}"
        for d in range(30)
        for barber in data["barbers"][:5]  # type: ignore[index]
    ]
    (tmp / "paths.txt").write_text("\n".join(paths) + "\n")
    (tmp / "rotate.lua").write_text(LUA_ROTATE)
    runs: dict[str, list[dict[str, object]]] = {"uncached": [], "cached": []}
    try:
        for _ in range(args.rounds):
            for mode in ("uncached", "cached"):
                env = {
                    "BARBERPRO_RATE_LIMIT_ENABLED": "false",
                    "BARBERPRO_LOAD_SHEDDING_ENABLED": "false",
                    "BARBERPRO_READ_CACHE_ENABLED": "true" if mode == "cached" else "false",
                }
                with server(database, tmp, **env) as base:
                    hello = run_wrk(f"{base}/hello", args.connections, args.seconds, host=HOST)
                    reads = run_wrk(
                        base,
                        args.connections,
                        args.seconds,
                        script=tmp / "rotate.lua",
                        args=[str(tmp / "paths.txt")],
                        host=HOST,
                    )
                runs[mode].append({"hello": hello, "availability": reads})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def median(mode: str, endpoint: str, key: str) -> float:
        return float(statistics.median(float(r[endpoint][key]) for r in runs[mode]))  # type: ignore[index]

    ratios = [
        float(c["availability"]["rps"]) / float(u["availability"]["rps"])  # type: ignore[index]
        for u, c in zip(runs["uncached"], runs["cached"], strict=True)
    ]
    print(
        json.dumps(
            {
                "benchmark": "gateway_cache",
                "server": "uvicorn, 1 worker, SQLite",
                "load_generator": f"wrk -t1 -c{args.connections} on the same 2 cores",
                "distinct_queries": len(paths),
                "cpu_count": os.cpu_count(),
                "summary": {
                    "uncached_rps_median": median("uncached", "availability", "rps"),
                    "cached_rps_median": median("cached", "availability", "rps"),
                    "uncached_p99_ms_median": median("uncached", "availability", "p99_ms"),
                    "cached_p99_ms_median": median("cached", "availability", "p99_ms"),
                    "hello_rps_median": median("cached", "hello", "rps"),
                    "speedup_per_round": [round(r, 2) for r in ratios],
                    "speedup_median": round(statistics.median(ratios), 2),
                },
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
