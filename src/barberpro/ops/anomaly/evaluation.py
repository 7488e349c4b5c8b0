"""NAB evaluation protocol: corpus-optimised and cross-validated thresholds for every profile."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from barberpro.ops.anomaly.nab_corpus import LabelledSeries
from barberpro.ops.anomaly.nab_scoring import PROFILES, CostProfile, NabScorer, ScoredFile, normalised

ScoreFn = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    corpus_threshold: float
    corpus_score: float  # normalised, threshold optimised on all files
    cv_score: float  # normalised, each fold scored with a threshold optimised on the other folds
    cv_thresholds: tuple[float, ...]
    frozen_threshold: float | None  # the shipped threshold, if one was given
    frozen_score: float | None


def cross_validation_folds(names: Sequence[str], k: int) -> list[list[int]]:
    """Deterministic k folds over files, spread so every NAB category lands in several folds."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    return [order[f::k] for f in range(k)]


def evaluate_scores(
    corpus: Sequence[LabelledSeries],
    scores: Sequence[npt.NDArray[np.float64]],
    profiles: dict[str, CostProfile] | None = None,
    folds: int = 6,
    frozen_threshold: float | None = None,
) -> list[ProfileResult]:
    profiles = profiles or PROFILES
    files = [ScoredFile(s.name, np.asarray(a, dtype=np.float64), s.layout) for s, a in zip(corpus, scores, strict=True)]
    fold_sets = cross_validation_folds([f.name for f in files], folds)
    results = []
    for name, profile in profiles.items():
        scorer = NabScorer(files, profile)
        n_windows = scorer.n_windows()
        best_t, best_raw = scorer.curve().best()
        cv_raw = 0.0
        cv_thresholds = []
        for held_out in fold_sets:
            train = [i for i in range(len(files)) if i not in set(held_out)]
            t, _ = scorer.curve(train).best()
            cv_thresholds.append(t)
            cv_raw += scorer.corpus_score(t, held_out)
        frozen = None
        if frozen_threshold is not None:
            frozen = normalised(scorer.corpus_score(frozen_threshold), n_windows, profile)
        results.append(ProfileResult(
            profile=name,
            corpus_threshold=best_t,
            corpus_score=normalised(best_raw, n_windows, profile),
            cv_score=normalised(cv_raw, n_windows, profile),
            cv_thresholds=tuple(cv_thresholds),
            frozen_threshold=frozen_threshold,
            frozen_score=frozen,
        ))
    return results


def run_detector(
    corpus: Sequence[LabelledSeries], score_fn: ScoreFn, workers: int = 1
) -> list[npt.NDArray[np.float64]]:
    """Score every series; ``workers > 1`` spreads files over processes (score_fn must pickle)."""
    values = [s.values for s in corpus]
    if workers <= 1:
        return [score_fn(v) for v in values]
    from concurrent.futures import ProcessPoolExecutor

    # Longest files first keeps both cores busy to the end.
    order = sorted(range(len(values)), key=lambda i: -len(values[i]))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(score_fn, [values[i] for i in order], chunksize=1))
    out: list[npt.NDArray[np.float64]] = [np.empty(0)] * len(values)
    for i, r in zip(order, done, strict=True):
        out[i] = r
    return out
