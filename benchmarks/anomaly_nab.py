"""NAB scores of the default detector next to null, random, rolling z-score and river's Half-Space Trees.

All detectors run in the same process on the same files and are scored by the same NAB v1.1
scorer: corpus-optimised threshold (comparable to the public scoreboard), thresholds frozen by
6-fold cross-validation across files (the honest figure), and the shipped default threshold.
Prints JSON.

    .venv/bin/python benchmarks/anomaly_nab.py [--data ../shared/data/anomaly/nab-dev]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from barberpro.ops.anomaly.baselines import baseline_detectors
from barberpro.ops.anomaly.detector import DEFAULT_THRESHOLD, default_detector
from barberpro.ops.anomaly.evaluation import ScoreFn, compare_detectors, run_detector
from barberpro.ops.anomaly.event_metrics import event_metrics
from barberpro.ops.anomaly.nab_corpus import load_corpus

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / "../shared/data/anomaly/nab-dev")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    corpus = load_corpus(args.data.resolve())
    detectors: dict[str, ScoreFn] = {"default": default_detector, **baseline_detectors()}
    t0 = time.perf_counter()
    reports = compare_detectors(
        corpus, detectors, {"default": DEFAULT_THRESHOLD}, folds=args.folds, workers=args.workers
    )
    # One global threshold; higher ones are only a configuration choice of a site that wants
    # fewer, surer pages (MonitorSettings.threshold), so their event figures are shown too.
    scores = run_detector(corpus, default_detector, args.workers)
    by_threshold = [
        {"threshold": t, **event_metrics(corpus, scores, t).as_dict()} for t in (DEFAULT_THRESHOLD, 0.7, 0.9)
    ]
    out = {
        "benchmark": "anomaly_nab",
        "data": str(args.data),
        "files": len(corpus),
        "windows": sum(len(s.windows) for s in corpus),
        "folds": args.folds,
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - t0, 1),
        "results": [r.as_dict() for r in reports],
        "default_events_by_threshold": by_threshold,
    }
    print(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
