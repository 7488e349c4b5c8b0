"""NAB scoring against hand-worked cases and against a literal re-statement of NAB's row loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.anomaly.nab_scoring import (
    PROFILES,
    FileLayout,
    NabScorer,
    ScoredFile,
    normalised,
    probation_length,
    scaled_sigmoid,
)

STD = PROFILES["standard"]


def one_file(n: int, windows: tuple[tuple[int, int], ...], flagged: list[int]) -> ScoredFile:
    scores = np.zeros(n)
    scores[flagged] = 1.0
    return ScoredFile("f.csv", scores, FileLayout(n, windows))


def score(file: ScoredFile, profile_name: str = "standard", threshold: float = 1.0) -> float:
    return NabScorer([file], PROFILES[profile_name]).corpus_score(threshold)


def test_scaled_sigmoid_published_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.01) == -1.0


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation_length(100) == 15
    assert probation_length(4032) == 604
    assert probation_length(22695) == 750


# Hand-worked file: 100 rows, probation 15 rows, one window on rows 40..59 (width 20).
WINDOW = ((40, 59),)


def test_detection_on_first_row_of_window_earns_full_tp_weight() -> None:
    assert score(one_file(100, WINDOW, [40])) == pytest.approx(1.0)


def test_detection_on_right_edge_earns_almost_nothing() -> None:
    # p = -(59 - 59 + 1) / 20 = -0.05; S = 2 / (1 + e^-0.25) - 1 = 0.124353; / 0.986614 = 0.126040
    assert score(one_file(100, WINDOW, [59])) == pytest.approx(0.126040, abs=1e-6)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    assert score(one_file(100, WINDOW, [40, 45, 50, 59])) == pytest.approx(1.0)


def test_missed_window_costs_fn_weight_per_profile() -> None:
    assert score(one_file(100, WINDOW, [])) == -1.0
    assert score(one_file(100, WINDOW, []), "reward_low_FN_rate") == -2.0


def test_false_positive_before_any_window_costs_full_fp_weight() -> None:
    assert score(one_file(100, WINDOW, [20, 40])) == pytest.approx(1.0 - 0.11)
    assert score(one_file(100, WINDOW, [20, 40]), "reward_low_FP_rate") == pytest.approx(1.0 - 0.22)


def test_false_positive_after_a_window_is_discounted_by_distance() -> None:
    # |59 - 69| / (20 - 1) = 0.526316; S = 2 / (1 + e^2.631579) - 1 = -0.865727; x 0.11 = -0.095230
    assert score(one_file(100, WINDOW, [40, 69])) == pytest.approx(1.0 - 0.095230, abs=1e-6)
    # More than three widths past the window: full cost.
    assert score(one_file(200, WINDOW, [40, 59 + 3 * 19 + 1])) == pytest.approx(1.0 - 0.11)


def test_rows_in_probation_are_never_scored() -> None:
    assert score(one_file(100, WINDOW, [5, 40])) == pytest.approx(1.0)
    # A window entirely inside probation does not exist for the scorer.
    assert NabScorer([one_file(100, ((2, 8),), [])], STD).n_windows() == 0


def test_threshold_is_inclusive_and_corpus_optimum_is_found() -> None:
    scores = np.zeros(100)
    scores[40] = 0.7
    scores[20] = 0.9  # an FP scored higher than the true detection
    scorer = NabScorer([ScoredFile("f.csv", scores, FileLayout(100, WINDOW))], STD)
    assert scorer.corpus_score(0.7) == pytest.approx(1.0 - 0.11)
    assert scorer.corpus_score(0.71) == pytest.approx(-1.0 - 0.11)
    assert scorer.corpus_score(0.95) == pytest.approx(-1.0)
    threshold, best = scorer.curve().best()
    assert threshold == pytest.approx(0.7) and best == pytest.approx(0.89)


def test_normalisation_null_is_zero_perfect_is_hundred() -> None:
    assert normalised(-1.0 * 7, 7, STD) == 0.0
    assert normalised(7.0, 7, STD) == 100.0
    low_fn = PROFILES["reward_low_FN_rate"]
    assert normalised(0.0, 3, low_fn) == pytest.approx(100 * 6 / 9)


# --- literal re-statement of NAB's sweeper loop, to cross-check the vectorised sweep
def reference_score(n: int, windows: list[tuple[int, int]], scores: list[float], threshold: float) -> float:
    prof = STD
    probation = min(math.floor(0.15 * n), 750)
    max_tp = scaled_sigmoid(-1.0)
    rows = []
    cur = None
    prev_right: int | None = None
    prev_width = 0
    pending = list(windows)
    for i in range(n):
        if pending and i == pending[0][0]:
            cur = pending.pop(0)
        if cur is not None:
            width = cur[1] - cur[0] + 1
            w = scaled_sigmoid(-(cur[1] - i + 1) / width) * prof.tp_weight / max_tp
        elif prev_right is None:
            w = -prof.fp_weight
        else:
            w = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1)) * prof.fp_weight
        name = cur if i >= probation else "probationary"
        rows.append((scores[i], w, name))
        if cur is not None and i == cur[1]:
            prev_right, prev_width, cur = i, cur[1] - cur[0] + 1, None
    parts: dict[object, float] = {"fp": 0.0}
    for _s, _w, name in rows:
        if name not in ("probationary", None):
            parts[name] = -prof.fn_weight
    for s, w, name in rows:
        if name == "probationary" or s < threshold:
            continue
        if name is None:
            parts["fp"] += w
        else:
            parts[name] = max(parts[name], w)
    return sum(parts.values())


@st.composite
def files(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[float]]:
    n = draw(st.integers(40, 160))
    cuts = sorted(draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=6, unique=True)))
    windows = [(cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2) if cuts[k + 1] - cuts[k] >= 2]
    scores = draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0]), min_size=n, max_size=n))
    return n, windows, scores


@settings(max_examples=150, deadline=None)
@given(files(), st.sampled_from([0.2, 0.5, 0.8, 1.0]))
def test_vectorised_sweep_matches_nab_row_loop(case: tuple[int, list[tuple[int, int]], list[float]], t: float) -> None:
    n, windows, scores = case
    file = ScoredFile("f.csv", np.array(scores), FileLayout(n, tuple(windows)))
    got = NabScorer([file], STD).corpus_score(t)
    assert got == pytest.approx(reference_score(n, windows, scores, t), abs=1e-9)
