"""NAB evaluation protocol: corpus-optimised and cross-validated thresholds for every profile."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from barberpro.ops.anomaly.nab_corpus import LabelledSeries
from barberpro.ops.anomaly.nab_scoring import PROFILES, CostProfile, NabScorer, ScoredFile, normalised

# A detector run over a whole series: (values, unix-second timestamps) -> one score per point.
ScoreFn = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], npt.NDArray[np.float64]]


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
        results.append(
            ProfileResult(
                profile=name,
                corpus_threshold=best_t,
                corpus_score=normalised(best_raw, n_windows, profile),
                cv_score=normalised(cv_raw, n_windows, profile),
                cv_thresholds=tuple(cv_thresholds),
                frozen_threshold=frozen_threshold,
                frozen_score=frozen,
            )
        )
    return results


def run_detector(
    corpus: Sequence[LabelledSeries], score_fn: ScoreFn, workers: int = 1
) -> list[npt.NDArray[np.float64]]:
    """Score every series; ``workers > 1`` spreads files over processes (score_fn must pickle)."""
    values = [s.values for s in corpus]
    times = [s.timestamps.astype("datetime64[s]").astype(np.int64).astype(np.float64) for s in corpus]
    if workers <= 1:
        return [score_fn(v, t) for v, t in zip(values, times, strict=True)]
    from concurrent.futures import ProcessPoolExecutor

    # Longest files first keeps both cores busy to the end.
    order = sorted(range(len(values)), key=lambda i: -len(values[i]))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(score_fn, [values[i] for i in order], [times[i] for i in order], chunksize=1))
    out: list[npt.NDArray[np.float64]] = [np.empty(0)] * len(values)
    for i, r in zip(order, done, strict=True):
        out[i] = r
    return out


@dataclass(frozen=True)
class DetectorReport:
    detector: str
    profiles: list[ProfileResult]
    events: dict[str, float | int | None]  # event metrics at the detector's shipped/corpus threshold
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "detector": self.detector,
            "seconds": round(self.seconds, 3),
            "profiles": {
                p.profile: {
                    "corpus_optimised": round(p.corpus_score, 2),
                    "corpus_threshold": p.corpus_threshold,
                    "cross_validated": round(p.cv_score, 2),
                    "cv_thresholds": list(p.cv_thresholds),
                    "frozen_threshold": p.frozen_threshold,
                    "frozen": None if p.frozen_score is None else round(p.frozen_score, 2),
                }
                for p in self.profiles
            },
            "events": self.events,
        }


def compare_detectors(
    corpus: Sequence[LabelledSeries],
    detectors: Mapping[str, ScoreFn],
    frozen_thresholds: dict[str, float] | None = None,
    folds: int = 6,
    workers: int = 1,
    on_done: Callable[[str], None] | None = None,
) -> list[DetectorReport]:
    """Run every detector over the corpus in one go and score it under the same protocol."""
    import time

    from barberpro.ops.anomaly.event_metrics import event_metrics

    frozen_thresholds = frozen_thresholds or {}
    reports = []
    for name, fn in detectors.items():
        t0 = time.perf_counter()
        scores = run_detector(corpus, fn, workers=workers)
        elapsed = time.perf_counter() - t0
        frozen = frozen_thresholds.get(name)
        profiles = evaluate_scores(corpus, scores, folds=folds, frozen_threshold=frozen)
        event_threshold = frozen if frozen is not None else profiles[0].corpus_threshold
        events = event_metrics(corpus, scores, event_threshold).as_dict()
        events["threshold"] = event_threshold
        reports.append(DetectorReport(name, profiles, events, elapsed))
        if on_done is not None:
            on_done(name)
    return reports
