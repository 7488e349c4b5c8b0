"""PostgreSQL recovery on throwaway clusters made with initdb on other ports.

Base backup + archived WAL (sealed in a backup location) restored to a point in time with
recovery_target_time, and a synchronous streaming standby that has every acknowledged
commit. PostgreSQL runs as the `postgres` system user; the sealing runs in this process.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from barberpro.ops.recovery.locations import DirectoryLocation
from barberpro.ops.recovery.postgres import (
    archive_command_for_spool,
    ship_spool,
)
from barberpro.ops.recovery.sealing import MAGIC, load_key, new_key

pytestmark = pytest.mark.slow
REQUIRE_SERVICES = os.environ.get("BARBERPRO_REQUIRE_SERVICES") == "1"


def service_unavailable(name: str, reason: str) -> None:
    """Skip on a developer machine, fail in CI (same rule as tests/conftest.py)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required in this run but {reason}")
    pytest.skip(f"{name} not available: {reason}")


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return versions[-1] if versions else None


BIN = _bin_dir()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_postgres(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args], check=check, capture_output=True, text=True, timeout=timeout
    )


class Cluster:
    def __init__(self, root: Path, name: str) -> None:
        assert BIN is not None
        self.data = root / name
        self.sockets = root
        self.port = free_port()
        self.log = root / f"{name}.log"

    def conf(self, **settings: str) -> None:
        with (self.data / "postgresql.auto.conf").open("a") as handle:
            for key, value in settings.items():
                handle.write(f"{key} = '{value}'\n")

    def start(self) -> None:
        self.conf(port=str(self.port), listen_addresses="", unix_socket_directories=str(self.sockets))
        as_postgres(f"{BIN}/pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        as_postgres(f"{BIN}/pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def sql(self, query: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return as_postgres(
            f"{BIN}/psql",
            "-h",
            str(self.sockets),
            "-p",
            str(self.port),
            "-d",
            "postgres",
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            query,
            check=check,
        )

    def value(self, query: str) -> str:
        return self.sql(query).stdout.strip()


@pytest.fixture
def root() -> Iterator[Path]:
    if BIN is None or shutil.which("runuser") is None:
        service_unavailable("PostgreSQL binaries", "pg_ctl/initdb not found")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        service_unavailable("PostgreSQL binaries", "no postgres system user to run initdb as")
    directory = Path(tempfile.mkdtemp(prefix="barberpro-pg-", dir="/tmp"))
    os.chmod(directory, 0o755)  # noqa: S103 - the postgres user must reach its data directories
    shutil.chown(directory, "postgres", "postgres")
    clusters: list[Cluster] = []
    try:
        yield directory
    finally:
        for data in directory.iterdir():
            if (data / "postmaster.pid").exists():
                as_postgres(f"{BIN}/pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
        del clusters
        shutil.rmtree(directory, ignore_errors=True)


def initdb(root: Path, name: str) -> Cluster:
    cluster = Cluster(root, name)
    as_postgres(f"{BIN}/initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync")
    return cluster


def owned_dir(path: Path) -> Path:
    path.mkdir()
    shutil.chown(path, "postgres", "postgres")
    return path


DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postgres"


def script_env(location: DirectoryLocation, key: str, **extra: str) -> dict[str, str]:
    """The deploy scripts as an operator runs them: `barberpro` and the server tools on PATH."""
    path = f"{Path(sys.executable).parent}:{BIN}:{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "BARBERPRO_BACKUP_TO": str(location.root), "BARBERPRO_BACKUP_KEY": key, **extra}


def restored_cluster(root: Path, name: str, location: DirectoryLocation, key: str, target: str | None) -> Cluster:
    """deploy/postgres/restore_pitr.sh into a new data directory, then start and wait."""
    cluster = Cluster(root, name)
    staging = root / f"{name}-wal"
    subprocess.run(
        ["bash", str(DEPLOY / "restore_pitr.sh"), str(cluster.data), *([target] if target else [])],
        env=script_env(location, key, BARBERPRO_PG_WAL_STAGING=str(staging)),
        check=True,
        capture_output=True,
        timeout=120,
    )
    for path in (cluster.data, staging):
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)
    cluster.start()
    deadline = time.monotonic() + 60
    while cluster.value("SELECT pg_is_in_recovery()") != "f":
        assert time.monotonic() < deadline, "recovery did not finish"
        time.sleep(0.2)
    return cluster


def test_point_in_time_recovery_from_sealed_base_backup_and_wal_archive(root: Path) -> None:
    encoded = new_key()
    location = DirectoryLocation(root / "backup")
    spool = owned_dir(root / "spool")
    primary = initdb(root, "primary")
    primary.conf(wal_level="replica", archive_mode="on", archive_command=archive_command_for_spool(spool))
    primary.start()
    primary.sql("CREATE TABLE bookings (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    subprocess.run(
        ["bash", str(DEPLOY / "base_backup.sh"), f"host={root} port={primary.port} user=postgres"],
        env=script_env(location, encoded),
        check=True,
        capture_output=True,
        timeout=120,
    )
    primary.sql("INSERT INTO bookings (n) SELECT generate_series(1, 100)")
    target = primary.value("SELECT clock_timestamp()")
    time.sleep(1.1)
    primary.sql("INSERT INTO bookings (n) SELECT generate_series(101, 200)")
    last = primary.value("SELECT pg_walfile_name(pg_current_wal_lsn())")
    primary.sql("SELECT pg_switch_wal()")
    deadline = time.monotonic() + 30
    while primary.value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < last:
        assert time.monotonic() < deadline, "WAL was not archived"
        time.sleep(0.1)
    ship_spool(location, load_key(encoded), spool)
    primary.stop("immediate")
    shutil.rmtree(primary.data)  # the primary is gone

    to_target = restored_cluster(root, "pitr", location, encoded, target)
    assert to_target.value("SELECT count(*), max(n) FROM bookings") == "100|100"
    to_target.stop()
    latest = restored_cluster(root, "latest", location, encoded, None)
    assert latest.value("SELECT count(*) FROM bookings") == "200"
    latest.stop()
    # The archive is sealed: no WAL or base file in the location is readable as is.
    for path in location.root.rglob("*"):
        if path.is_file():
            assert path.read_bytes().startswith(MAGIC)


def test_synchronous_standby_holds_every_acknowledged_commit(root: Path) -> None:
    primary = initdb(root, "primary")
    primary.conf(wal_level="replica", synchronous_commit="remote_apply")
    primary.start()
    primary.sql("CREATE TABLE bookings (n int PRIMARY KEY)")
    standby = Cluster(root, "standby")
    subprocess.run(
        [
            "bash",
            str(DEPLOY / "standby.sh"),
            str(standby.data),
            "standby1",
            f"host={root} port={primary.port} user=postgres",
        ],
        env=script_env(DirectoryLocation(root / "unused"), new_key()),
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(["chown", "-R", "postgres:postgres", str(standby.data)], check=True)
    standby.start()
    primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
    primary.sql("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 30
    while primary.value("SELECT coalesce(max(sync_state), '') FROM pg_stat_replication") != "sync":
        assert time.monotonic() < deadline, "the standby never became synchronous"
        time.sleep(0.1)
    for n in range(1, 51):
        primary.sql(f"INSERT INTO bookings VALUES ({n})")  # noqa: S608 - an int
        # remote_apply: once the primary acknowledged, the standby already shows the row.
        assert standby.value(f"SELECT count(*) FROM bookings WHERE n = {n}") == "1"  # noqa: S608
    standby.stop("immediate")
    # Without its standby the primary does not acknowledge: the commit waits...
    waiting = subprocess.Popen(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            f"{BIN}/psql",
            "-h",
            str(root),
            "-p",
            str(primary.port),
            "-d",
            "postgres",
            "-XAtq",
            "-c",
            "INSERT INTO bookings VALUES (999)",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    assert waiting.poll() is None, "a commit was acknowledged without the synchronous standby"
    # ...until the standby is back and has applied it.
    standby.start()
    assert waiting.wait(timeout=60) == 0
    assert standby.value("SELECT count(*) FROM bookings WHERE n = 999") == "1"
    standby.stop()
