"""The DR drill: load, SIGKILL, destroy, restore, serve again, and measure RPO and RTO.

Time line of one run (all monotonic clock, seconds):
    kill          the primary server gets SIGKILL, then its data directory is deleted
    detected      the first failed health probe after the kill (probed every 100 ms)
    restored      restore() finished: new database file, integrity checked
    serving       the first booking acknowledged by the restored server
RTO = serving - kill = detection + restore + start. RPO = acknowledged bookings missing
from the restored database, and the loss window: kill time minus the oldest lost ack.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from barberpro.ops.recovery.drill_load import (
    AckLog,
    BookingLoad,
    ServerProcess,
    Slot,
    collect_slots,
    first_booking,
    run_cli,
)
from barberpro.ops.recovery.locations import DirectoryLocation
from barberpro.ops.recovery.restore import restore
from barberpro.ops.recovery.sealing import load_key, new_key


@dataclass
class DrillRun:
    mode: str
    acknowledged: int
    lost: int
    loss_window_s: float
    restored_unacknowledged: int  # committed but never acknowledged (in flight at the kill)
    mismatched: int
    detection_s: float
    restore_s: float
    start_s: float
    first_booking_s: float  # from the restored server's first healthy answer to its first ack
    rto_s: float
    segments_applied: int
    load_seconds: float
    refused: int
    slots_left: int  # 0 means the load ran out of free slots before the kill: RPO not exercised


@dataclass
class DrillSummary:
    runs: list[DrillRun] = field(default_factory=list)

    def worst(self) -> dict[str, Any]:
        if not self.runs:
            return {}
        return {
            "runs": len(self.runs),
            "mode": self.runs[0].mode,
            "acknowledged_total": sum(r.acknowledged for r in self.runs),
            "lost_total": sum(r.lost for r in self.runs),
            "worst_lost": max(r.lost for r in self.runs),
            "worst_loss_window_s": max(r.loss_window_s for r in self.runs),
            "worst_rto_s": max(r.rto_s for r in self.runs),
            "median_rto_s": sorted(r.rto_s for r in self.runs)[len(self.runs) // 2],
            "worst_detection_s": max(r.detection_s for r in self.runs),
            "worst_restore_s": max(r.restore_s for r in self.runs),
            "worst_start_s": max(r.start_s for r in self.runs),
            "mismatched_total": sum(r.mismatched for r in self.runs),
        }


BULK_FROM = {"past": "2015-01-01", "future": "2030-01-01"}


def add_bulk_bookings(database: Path, count: int, placement: str = "future") -> None:
    """Bookings in bulk SQL, spread over the demo barbers (drill data only).

    "future" puts them past the booking horizon (from 2030). "past" is the realistic
    history, but the availability query (starts_at < end AND blocks_until > start on the
    (barber_id, starts_at) index) then scans a barber's whole history: with 1M past
    bookings each booking takes ~1 s, which measures that query, not recovery.
    """
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        barbers = connection.execute(
            "SELECT b.id, b.shop_id, b.tenant_id, (SELECT id FROM services s WHERE s.shop_id = b.shop_id "
            "LIMIT 1) FROM barbers b ORDER BY b.id"
        ).fetchall()
        connection.execute(
            "CREATE TEMP TABLE drill_barbers (n INTEGER PRIMARY KEY, id, shop_id, tenant_id, service_id)"
        )
        connection.executemany(
            "INSERT INTO drill_barbers VALUES (?, ?, ?, ?, ?)", [(n, *row) for n, row in enumerate(barbers)]
        )
        connection.execute("BEGIN")
        connection.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)
            INSERT INTO bookings (id, tenant_id, shop_id, barber_id, service_id, customer_id, starts_at,
                                  ends_at, blocks_until, status, kind, price, notes, created_at, version)
            SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
                         || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
                   b.tenant_id, b.shop_id, b.id, b.service_id, NULL,
                   strftime('%Y-%m-%d %H:%M:%f000', :origin, '+' || ((n.i / :nb) * 30) || ' minutes'),
                   strftime('%Y-%m-%d %H:%M:%f000', :origin, '+' || ((n.i / :nb) * 30 + 30) || ' minutes'),
                   strftime('%Y-%m-%d %H:%M:%f000', :origin, '+' || ((n.i / :nb) * 30 + 30) || ' minutes'),
                   :status, 'appointment', 12000, '', strftime('%Y-%m-%d %H:%M:%f000', 'now'), 1
            FROM n JOIN drill_barbers b ON b.n = n.i % :nb
            """,
            {
                "count": count,
                "nb": len(barbers),
                "origin": BULK_FROM[placement],
                "status": "completed" if placement == "past" else "confirmed",
            },
        )
        connection.execute("COMMIT")
    finally:
        connection.close()


def prepare(workdir: Path, bookings: int, env: dict[str, str], placement: str = "future") -> Path:
    """A migrated database with the demo tenants and `bookings` extra bookings (built once)."""
    base = workdir / f"base-{bookings}-{placement}" / "barberpro.db"
    if base.exists():
        return base
    base.parent.mkdir(parents=True, exist_ok=True)
    env = {**env, "BARBERPRO_DATABASE_URL": f"sqlite:///{base}", "BARBERPRO_VAR_DIR": str(base.parent)}
    run_cli(["db", "upgrade"], env, workdir / "prepare.log")
    run_cli(["demo"], env, workdir / "prepare.log")
    if bookings:
        add_bulk_bookings(base, bookings, placement)
    connection = sqlite3.connect(base)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return base


class HealthProbe(threading.Thread):
    def __init__(self, base: str, after: float) -> None:
        super().__init__(daemon=True)
        self.base, self.after, self.detected_at = base, after, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=0.5) as client:
            while not self._halt.is_set():
                try:
                    ok = client.get(f"{self.base}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if not ok and time.monotonic() >= self.after:
                    self.detected_at = time.monotonic()
                    return
                time.sleep(0.1)

    def stop(self) -> None:
        self._halt.set()


def _compare(restored: Path, acks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """Lost acknowledged bookings, mismatched ones, and drill bookings restored without an ack."""
    connection = sqlite3.connect(restored)
    try:
        rows = {
            r[0]: r
            for r in connection.execute(
                "SELECT b.id, b.barber_id, b.shop_id, b.status FROM bookings b JOIN customers c "
                "ON c.id = b.customer_id WHERE c.name = 'Cliente Simulacro'"
            )
        }
    finally:
        connection.close()
    lost, mismatched = [], 0
    for ack in acks:
        row = rows.get(ack["id"])
        if row is None:
            lost.append(ack)
        elif (row[1], row[2], row[3]) != (ack["barber_id"], ack["shop_id"], ack["status"]):
            mismatched += 1
    return lost, mismatched, len(set(rows) - {a["id"] for a in acks})


def run_once(
    base_db: Path,
    workdir: Path,
    env: dict[str, str],
    *,
    mode: str,
    load_seconds: float,
    clients: int,
    slots: list[Slot],
    run_number: int,
) -> DrillRun:
    run_dir = workdir / f"run-{run_number:03d}"
    shutil.rmtree(run_dir, ignore_errors=True)
    primary, backup, restored_dir = run_dir / "primary", run_dir / "backup", run_dir / "restored"
    for directory in (primary, backup, restored_dir):
        directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base_db, primary / "barberpro.db")
    key = new_key()
    common = {**env, "BARBERPRO_BACKUP_KEY": key, "BARBERPRO_BACKUP_MODE": mode}
    server = ServerProcess(
        {
            **common,
            "BARBERPRO_DATABASE_URL": f"sqlite:///{primary / 'barberpro.db'}",
            "BARBERPRO_VAR_DIR": str(primary),
            "BARBERPRO_BACKUP_TO": str(backup),
        },
        run_dir / "primary.log",
    )
    server.start()
    server.wait_ready()
    acks = AckLog(run_dir / "acks.jsonl")  # outside primary/: survives the blast
    spare, work = slots[-1], slots[:-1]
    load = BookingLoad(server.base, work, acks, clients)
    load.start()
    time.sleep(load_seconds)
    probe = HealthProbe(server.base, after=time.monotonic())
    probe.start()
    killed = server.kill()
    shutil.rmtree(primary)
    load.stop()
    probe.join(timeout=10)
    detected = probe.detected_at or time.monotonic()
    report = restore(DirectoryLocation(backup), load_key(key), restored_dir / "barberpro.db")
    restored_at = time.monotonic()
    again = ServerProcess(
        {
            **common,
            "BARBERPRO_DATABASE_URL": f"sqlite:///{restored_dir / 'barberpro.db'}",
            "BARBERPRO_VAR_DIR": str(restored_dir),
            "BARBERPRO_BACKUP_TO": str(backup),
        },
        run_dir / "restored.log",
    )
    again.start()
    ready = again.wait_ready()
    serving = first_booking(again.base, spare)
    again.stop()
    acks.close()
    lost, mismatched, unacked = _compare(restored_dir / "barberpro.db", acks.entries)
    oldest_lost = min((a["acked_at"] for a in lost), default=killed)
    return DrillRun(
        mode=mode,
        acknowledged=len(acks.entries),
        lost=len(lost),
        loss_window_s=round(max(0.0, killed - oldest_lost), 3),
        restored_unacknowledged=unacked,
        mismatched=mismatched,
        detection_s=round(detected - killed, 3),
        restore_s=round(restored_at - detected, 3),
        start_s=round(serving - restored_at, 3),
        first_booking_s=round(serving - ready, 3),
        rto_s=round(serving - killed, 3),
        segments_applied=report.segments,
        load_seconds=load_seconds,
        refused=load.refused,
        slots_left=load.remaining(),
    )


def drill(
    workdir: Path,
    *,
    runs: int = 1,
    mode: str = "async",
    bookings: int = 0,
    load_seconds: float = 5.0,
    clients: int = 4,
    keep: bool = False,
    progress: Any = None,
    placement: str = "future",
) -> DrillSummary:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARBERPRO_")}
    env.update(
        {
            "BARBERPRO_SECRET_KEY": "drill-secret-key-with-at-least-32-characters",
            "BARBERPRO_LOG_LEVEL": "WARNING",
            "BARBERPRO_RATE_LIMIT_ENABLED": "false",
            "BARBERPRO_DEFAULT_TENANT": "demo",
            "BARBERPRO_TRUSTED_PROXY_HOPS": "1",
            "BARBERPRO_LOAD_SHEDDING_ENABLED": "false",
        }
    )
    base = prepare(workdir, bookings, env, placement)
    summary = DrillSummary()
    slots: list[Slot] = []
    for number in range(runs):
        if not slots:
            probe_dir = workdir / "slots"
            probe_dir.mkdir(exist_ok=True)
            shutil.copyfile(base, probe_dir / "barberpro.db")
            server = ServerProcess(
                {
                    **env,
                    "BARBERPRO_DATABASE_URL": f"sqlite:///{probe_dir / 'barberpro.db'}",
                    "BARBERPRO_VAR_DIR": str(probe_dir),
                },
                workdir / "slots.log",
            )
            server.start()
            server.wait_ready()
            slots = collect_slots(server.base, wanted=4000)
            server.stop()
        summary.runs.append(
            run_once(
                base,
                workdir,
                env,
                mode=mode,
                load_seconds=load_seconds,
                clients=clients,
                slots=slots,
                run_number=number,
            )
        )
        if not keep:
            shutil.rmtree(workdir / f"run-{number:03d}", ignore_errors=True)
        if progress is not None:
            progress(number + 1, asdict(summary.runs[-1]))
    return summary
