"""One real DR drill in synchronous mode: a served SQLite primary under booking load is
SIGKILLed and its data deleted; the restore must hold every acknowledged booking."""

from __future__ import annotations

from pathlib import Path

import pytest

from barberpro.ops.recovery.drill import drill

pytestmark = pytest.mark.slow


def test_synchronous_drill_loses_no_acknowledged_booking(tmp_path: Path) -> None:
    summary = drill(tmp_path / "drill", runs=1, mode="sync", load_seconds=2.0, clients=3)
    run = summary.runs[0]
    assert run.acknowledged > 20, "the load did not book enough to mean anything"
    assert run.lost == 0 and run.loss_window_s == 0.0
    assert run.mismatched == 0
    assert run.segments_applied > 0  # the restore replayed shipped WAL, not only a snapshot
    assert 0 < run.rto_s < 60
    assert abs(run.detection_s + run.restore_s + run.start_s - run.rto_s) < 0.01
