"""WAL shipping and restore on real SQLite files: what was shipped is exactly what comes back."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barberpro.ops.recovery.chain import BrokenChain, generations, segment_name
from barberpro.ops.recovery.locations import DirectoryLocation
from barberpro.ops.recovery.restore import restore
from barberpro.ops.recovery.sealing import load_key, new_key
from barberpro.ops.recovery.shipper import WalShipper

KEY = load_key(new_key())


def app_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def content(path: Path) -> list[tuple[int, str]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT id, body FROM items ORDER BY id").fetchall()
    finally:
        connection.close()


def make_source(tmp: Path) -> tuple[Path, sqlite3.Connection]:
    source = tmp / "primary.db"
    app = app_connection(source)
    app.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return source, app


def write(app: sqlite3.Connection, start: int, count: int, size: int = 50) -> None:
    app.execute("BEGIN IMMEDIATE")
    app.executemany(
        "INSERT OR REPLACE INTO items VALUES (?, ?)", [(i, f"{i}:" + "x" * size) for i in range(start, start + count)]
    )
    app.execute("COMMIT")


def test_latest_restore_matches_the_source(tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    write(app, 0, 100)
    write(app, 50, 100, size=900)
    assert shipper.tick() == 2
    app.execute("DELETE FROM items WHERE id % 3 = 0")
    shipper.tick()
    report = restore(location, KEY, tmp_path / "restored.db")
    assert report.integrity == "ok" and report.transactions == 3
    assert content(tmp_path / "restored.db") == content(source)
    shipper.stop()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["write", "big", "delete", "tick", "app_checkpoint"]), st.integers(0, 400)),
        min_size=1,
        max_size=25,
    )
)
def test_any_interleaving_of_writes_ticks_and_checkpoints_restores_exactly(steps: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        source, app = make_source(tmp)
        location = DirectoryLocation(tmp / "backup")
        # A tiny checkpoint threshold makes the shipper checkpoint and the log restart often.
        shipper = WalShipper(source, location, KEY, checkpoint_bytes=8192)
        shipper.tick()
        for action, n in steps:
            if action == "write":
                write(app, n, 5)
            elif action == "big":
                write(app, n, 40, size=3000)
            elif action == "delete":
                app.execute("DELETE FROM items WHERE id BETWEEN ? AND ?", (n, n + 30))
            elif action == "app_checkpoint":
                app.execute("PRAGMA wal_checkpoint(PASSIVE)")
            else:
                shipper.tick()
        shipper.tick()
        expected = content(source)
        restore(location, KEY, tmp / "restored.db", full_check=True)
        assert content(tmp / "restored.db") == expected
        assert len(generations(location)) == 1, "the chain never had to start over"
        shipper.stop()
        app.close()


def test_point_in_time_restore(tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    write(app, 0, 10)
    shipper.tick()
    middle = datetime.now(UTC)
    state_at_middle = content(source)
    write(app, 10, 10)
    shipper.tick()
    restore(location, KEY, tmp_path / "pitr.db", at=middle)
    assert content(tmp_path / "pitr.db") == state_at_middle
    shipper.stop()


def broken_backup(tmp_path: Path) -> DirectoryLocation:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    for i in range(3):
        write(app, i * 10, 10)
        shipper.tick()
    shipper.stop()
    return location


def test_a_corrupted_segment_is_refused_by_name(tmp_path: Path) -> None:
    location = broken_backup(tmp_path)
    name = segment_name(generations(location)[0], 1)
    path = location.root / name
    data = bytearray(path.read_bytes())
    data[-40] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BrokenChain, match=f"{name}: fails authentication"):
        restore(location, KEY, tmp_path / "r.db")
    assert not (tmp_path / "r.db").exists()


def test_a_missing_segment_is_refused_as_an_incomplete_chain(tmp_path: Path) -> None:
    location = broken_backup(tmp_path)
    name = segment_name(generations(location)[0], 1)
    (location.root / name).unlink()
    with pytest.raises(BrokenChain, match=r"missing \(incomplete chain\)"):
        restore(location, KEY, tmp_path / "r.db")


def test_swapped_segments_and_a_wrong_key_are_refused(tmp_path: Path) -> None:
    location = broken_backup(tmp_path)
    generation = generations(location)[0]
    first, second = (location.root / segment_name(generation, i) for i in (0, 1))
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    with pytest.raises(BrokenChain, match="fails authentication"):
        restore(location, KEY, tmp_path / "r.db")
    first.write_bytes(a)
    second.write_bytes(b)
    with pytest.raises(BrokenChain, match="another key"):
        restore(location, load_key(new_key()), tmp_path / "r.db")
    assert restore(location, KEY, tmp_path / "r.db").integrity == "ok"


def test_backups_are_encrypted_at_rest(tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    app.execute("INSERT INTO items VALUES (1, 'secreto-del-cliente')")
    shipper.tick()
    shipper.stop()
    for path in location.root.rglob("*"):
        if path.is_file():
            assert b"secreto-del-cliente" not in path.read_bytes()
            assert b"CREATE TABLE" not in path.read_bytes()


def test_synchronous_acknowledgements_are_in_the_backup(tmp_path: Path) -> None:
    import threading

    source, app = make_source(tmp_path)
    app.close()
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY, interval=5.0)  # only on-demand ticks matter
    shipper.start()
    acknowledged: list[int] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        connection = app_connection(source)
        for i in range(offset, offset + 40):
            write(connection, i, 1)
            shipper.wait_durable()
            with lock:
                acknowledged.append(i)
        connection.close()

    threads = [threading.Thread(target=client, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # No clean stop: restore from what the location holds right now.
    restore(location, KEY, tmp_path / "restored.db")
    restored = {row[0] for row in content(tmp_path / "restored.db")}
    assert set(acknowledged) <= restored and len(acknowledged) == 160
    shipper.stop()


def test_a_full_restore_continues_the_same_chain(tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    write(app, 0, 30)
    shipper.tick()
    restored = tmp_path / "restored.db"
    restore(location, KEY, restored)
    # The restored server ships into the same location without a new snapshot.
    again = WalShipper(restored, location, KEY)
    assert again.resume_after_restore()
    again.tick()
    connection = app_connection(restored)
    write(connection, 100, 20)
    again.tick()
    assert len(generations(location)) == 1
    restore(location, KEY, tmp_path / "second.db")
    assert content(tmp_path / "second.db") == content(restored)
    assert len(content(restored)) == 50


def test_a_point_in_time_restore_starts_a_new_generation(tmp_path: Path) -> None:
    source, app = make_source(tmp_path)
    location = DirectoryLocation(tmp_path / "backup")
    shipper = WalShipper(source, location, KEY)
    shipper.tick()
    write(app, 0, 3)
    shipper.tick()
    restored = tmp_path / "restored.db"
    restore(location, KEY, restored, at=datetime.now(UTC))
    again = WalShipper(restored, location, KEY)
    assert not again.resume_after_restore()
