"""The DR drill figure: N drills against a served 1-million-booking SQLite database.

Each drill: `barberpro backup serve` under a real booking load over HTTP, SIGKILL, data
directory deleted, restore from the backup location, serve again, first booking. Prints
the worst case over the runs and every run, as JSON.

    .venv/bin/python benchmarks/recovery_drill.py --mode sync --runs 20 --bookings 1000000
    .venv/bin/python benchmarks/recovery_drill.py --mode async --runs 5 --bookings 1000000

The load generator runs on the same 2 cores as the server (3-4 client threads).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from barberpro.ops.recovery.drill import drill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["async", "sync"], default="async")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="load before the kill")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("var/drill-bench"))
    parser.add_argument("--history", choices=["future", "past"], default="future")
    args = parser.parse_args()
    started = time.time()

    def progress(done: int, run: dict[str, object]) -> None:
        print(f"run {done}/{args.runs}: {json.dumps(run)}", file=sys.stderr, flush=True)

    summary = drill(
        args.workdir,
        runs=args.runs,
        mode=args.mode,
        bookings=args.bookings,
        load_seconds=args.seconds,
        clients=args.clients,
        progress=progress,
        placement=args.history,
    )
    print(
        json.dumps(
            {
                "benchmark": "recovery_drill",
                "bookings_in_database": args.bookings,
                "history": args.history,
                "wall_seconds": round(time.time() - started, 1),
                "worst": summary.worst(),
                "runs": [asdict(r) for r in summary.runs],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
