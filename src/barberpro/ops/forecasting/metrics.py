"""Forecast accuracy measures. MASE is primary; the others are reported beside it."""

from __future__ import annotations

import numpy as np


def mase_scale(train: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast (the MASE denominator)."""
    train = np.asarray(train, float)
    if len(train) <= season:
        season = 1
    diffs = np.abs(train[season:] - train[:-season])
    scale = float(np.mean(diffs)) if len(diffs) else 0.0
    return scale if scale > 0 else 1.0


def mase(actual: np.ndarray, predicted: np.ndarray, scale: float) -> float:
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))) / scale)


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error, in percent."""
    total = float(np.sum(np.abs(actual)))
    return float(100.0 * np.sum(np.abs(np.asarray(actual) - np.asarray(predicted))) / total) if total else 0.0


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200); a step where both are zero counts as 0."""
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    denom = np.abs(a) + np.abs(p)
    terms = np.divide(2.0 * np.abs(a - p), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100.0 * np.mean(terms))


def pinball(actual: np.ndarray, quantile_forecast: np.ndarray, q: float, scale: float = 1.0) -> float:
    """Mean pinball (quantile) loss, divided by `scale` (the MASE scale, so traces compare)."""
    diff = np.asarray(actual, float) - np.asarray(quantile_forecast, float)
    return float(np.mean(np.maximum(q * diff, (q - 1.0) * diff)) / scale)


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside [lower, upper], in percent."""
    a = np.asarray(actual, float)
    return float(100.0 * np.mean((a >= lower) & (a <= upper)))
