"""Seasonality test and classical decomposition, as the M-competition benchmarks use them."""

from __future__ import annotations

import numpy as np

__all__ = ["acf", "is_seasonal", "normal_intervals", "seasonal_indices", "z_value"]


def z_value(level: int) -> float:
    """Two-sided standard-normal quantile for a ``level`` percent interval."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 200.0))


def normal_intervals(
    mean: np.ndarray, sd: np.ndarray, levels: tuple[int, ...]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Normal prediction intervals ``mean ± z·sd`` for each level (percent), by level."""
    return {lv: (mean - z_value(lv) * sd, mean + z_value(lv) * sd) for lv in levels}


def acf(x: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelations at lags ``0..nlags`` (biased estimator, as in R's ``acf``)."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean()
    denom = float(np.dot(x, x))
    out = np.ones(nlags + 1)
    if denom == 0.0:
        out[1:] = 0.0
        return out
    for k in range(1, nlags + 1):
        out[k] = float(np.dot(x[:-k], x[k:])) / denom if k < len(x) else 0.0
    return out


def is_seasonal(y: np.ndarray, season_length: int) -> bool:
    """90% one-sided autocorrelation test at lag ``season_length`` (M4 benchmark rule).

    Notes
    -----
    Seasonal when :math:`|r_m| > 1.645 \\sqrt{(1 + 2\\sum_{k<m} r_k^2)/n}`. Needs at least
    three full seasons; shorter series are treated as non-seasonal.
    """
    y = np.asarray(y, dtype=float)
    if season_length <= 1 or len(y) < 3 * season_length:
        return False
    r = acf(y, season_length)
    limit = 1.645 * np.sqrt((1.0 + 2.0 * np.sum(r[1:season_length] ** 2)) / len(y))
    return bool(abs(r[season_length]) > limit)


def seasonal_indices(y: np.ndarray, season_length: int, *, multiplicative: bool = True) -> np.ndarray:
    """Seasonal indices of a classical decomposition, one per position in the season.

    The trend is a centred moving average of order ``season_length`` (2x m for even m).
    Returns ``season_length`` factors (multiplicative, averaging 1) or offsets (additive,
    averaging 0), aligned so that ``out[i % m]`` applies to observation ``i``.
    """
    y = np.asarray(y, dtype=float)
    m = season_length
    n = len(y)
    if m % 2 == 0:
        weights = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        weights = np.ones(m) / m
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    detr = np.full(n, np.nan)
    if multiplicative:
        detr[offset : offset + len(trend)] = y[offset : offset + len(trend)] / trend
    else:
        detr[offset : offset + len(trend)] = y[offset : offset + len(trend)] - trend
    idx = np.array([np.nanmean(detr[i::m]) if np.any(~np.isnan(detr[i::m])) else np.nan for i in range(m)])
    idx = np.where(np.isnan(idx), 1.0 if multiplicative else 0.0, idx)
    if multiplicative:
        return np.asarray(idx / idx.mean())
    return np.asarray(idx - idx.mean())
