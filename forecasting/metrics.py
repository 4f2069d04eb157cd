"""Accuracy metrics, with the M3/M4 competition definitions.

References
----------
Makridakis, S. & Hibon, M. (2000). The M3-Competition. IJF 16, 451-476.
Makridakis, S., Spiliotis, E. & Assimakopoulos, V. (2020). The M4 Competition. IJF 36, 54-74.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "coverage",
    "interval_score",
    "interval_scores",
    "mae",
    "mase",
    "msis",
    "rmse",
    "rmsse",
    "scale_mae",
    "scale_mse",
    "smape",
]


def _arr(x: object) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1)


def mae(y: object, f: object) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(_arr(y) - _arr(f))))


def rmse(y: object, f: object) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((_arr(y) - _arr(f)) ** 2)))


def smape(y: object, f: object) -> float:
    """Symmetric MAPE in percent: mean of 200·|y−f|/(|y|+|f|) (M3 definition).

    Terms where both ``y`` and ``f`` are 0 count as 0.
    """
    y_, f_ = _arr(y), _arr(f)
    denom = np.abs(y_) + np.abs(f_)
    terms = np.divide(200.0 * np.abs(y_ - f_), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(np.mean(terms))


def scale_mae(insample: object, season_length: int = 1) -> float:
    """In-sample MAE of the seasonal naive method (the MASE denominator)."""
    x = _arr(insample)
    m = season_length if len(x) > season_length else 1
    if len(x) <= m:
        return float("nan")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def scale_mse(insample: object, season_length: int = 1) -> float:
    """In-sample MSE of the seasonal naive method (the RMSSE denominator)."""
    x = _arr(insample)
    m = season_length if len(x) > season_length else 1
    if len(x) <= m:
        return float("nan")
    return float(np.mean((x[m:] - x[:-m]) ** 2))


def mase(y: object, f: object, insample: object, season_length: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006)."""
    return mae(y, f) / scale_mae(insample, season_length)


def rmsse(y: object, f: object, insample: object, season_length: int = 1) -> float:
    """Root mean squared scaled error (M5 definition)."""
    return float(np.sqrt(np.mean((_arr(y) - _arr(f)) ** 2) / scale_mse(insample, season_length)))


def coverage(y: object, lo: object, hi: object) -> float:
    """Share of actuals inside [lo, hi], in [0, 1]."""
    y_ = _arr(y)
    return float(np.mean((y_ >= _arr(lo)) & (y_ <= _arr(hi))))


def interval_scores(y: object, lo: object, hi: object, level: int) -> np.ndarray:
    """Interval score of each outcome for a ``level`` percent interval: its width plus 2/α
    times the miss."""
    y_, lo_, hi_ = _arr(y), _arr(lo), _arr(hi)
    a = 1.0 - level / 100.0
    return np.asarray((hi_ - lo_) + (2.0 / a) * (lo_ - y_) * (y_ < lo_) + (2.0 / a) * (y_ - hi_) * (y_ > hi_))


def interval_score(y: object, lo: object, hi: object, level: int) -> float:
    """Mean interval score of a ``level`` percent interval (:func:`interval_scores`)."""
    return float(np.mean(interval_scores(y, lo, hi, level)))


def msis(y: object, lo: object, hi: object, insample: object, level: int, season_length: int = 1) -> float:
    """Mean scaled interval score (M4 definition) for a ``level`` percent interval."""
    return interval_score(y, lo, hi, level) / scale_mae(insample, season_length)
