"""Building blocks of sample paths: innovation sums and the mapping onto reported marginals.

Every model's paths are made in two steps (see ``docs/paths.md``):

1. *dependence*: the model simulates raw paths with its own error structure (a random walk
   sums its increments, ETS runs its state-space recursion, ARIMA its psi-weights, ...);
2. *marginals*: each step's raw values are mapped, rank for rank, onto the quantile function
   that ``predict`` reports at that step (:func:`map_to_marginals`).

Step 2 is what makes the quantiles of the paths agree with the forecast's bounds for every
model, including calibrated ones whose widths no simulation produces; because the mapping is
increasing it keeps each path's rank at every step, so the dependence across steps (the
rank correlation, the copula) is the model's own. For a Gaussian linear model whose raw
paths already have the reported marginals the mapping changes nothing but Monte Carlo noise.

This module imports nothing of the model classes, so :mod:`forecasting.base` can use it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import ndtri

from forecasting.exceptions import InvalidParameterError

__all__ = [
    "GRID_LEVELS",
    "MAX_PATHS",
    "check_n_paths",
    "innovation_paths",
    "map_to_marginals",
    "quantile_grid",
    "random_walk_weights",
]

#: Levels at which ``predict`` is asked for the quantile function that paths are mapped onto:
#: 1..99 percent gives 198 probabilities from 0.005 to 0.995.
GRID_LEVELS: tuple[int, ...] = tuple(range(1, 100))

#: Ceiling on ``n_paths``: a horizon of 120 months by 100,000 paths is already 96 MB.
MAX_PATHS = 100_000


def check_n_paths(n_paths: object) -> int:
    """Validate the number of paths (an integer in 1..:data:`MAX_PATHS`).

    Raises
    ------
    InvalidParameterError
        For anything else.
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or not 1 <= n_paths <= MAX_PATHS:
        raise InvalidParameterError(f"n_paths must be an integer in 1..{MAX_PATHS}; got {n_paths!r}.")
    return int(n_paths)


def innovation_paths(weights: np.ndarray, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian paths ``weights @ z`` with independent standard-normal ``z``.

    Parameters
    ----------
    weights : ndarray of shape (horizon, k)
        Loading of each step on ``k`` independent shocks (future innovations and, where a
        model has them, estimation errors shared by all steps).
    n_paths : int
        Number of paths.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of shape (horizon, n_paths)
        Zero-mean paths whose covariance across steps is ``weights @ weights.T``.
    """
    weights = np.asarray(weights, dtype=float)
    return np.asarray(weights @ rng.standard_normal((weights.shape[1], n_paths)))


def random_walk_weights(horizon: int, lag: int = 1) -> np.ndarray:
    """Loadings of a (seasonal) random walk: step ``h`` sums the shocks of steps
    ``h, h - lag, h - 2 lag, ...`` (unit variance per shock).

    Returns
    -------
    ndarray of shape (horizon, horizon)
    """
    steps = np.arange(horizon)
    diff = steps[:, None] - steps[None, :]
    return np.asarray((diff >= 0) & (diff % lag == 0), dtype=float)


def quantile_grid(
    intervals: Mapping[int, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """The reported quantile function per step, from intervals at many levels.

    Parameters
    ----------
    intervals : mapping
        Level -> (lo, hi) arrays of length horizon, as a model's ``_predict`` returns them.

    Returns
    -------
    probs : ndarray of shape (k,)
        Increasing probabilities (``0.5 -+ level / 200``).
    quantiles : ndarray of shape (horizon, k)
        The bounds, made non-decreasing along each row: bounds that come from a finite
        simulation (statsforecast's Theta uses 200 draws) can cross at neighbouring levels.
    """
    levels = sorted(intervals, reverse=True)
    probs = np.array([0.5 - lv / 200.0 for lv in levels] + [0.5 + lv / 200.0 for lv in reversed(levels)])
    columns = [intervals[lv][0] for lv in levels] + [intervals[lv][1] for lv in reversed(levels)]
    quantiles = np.maximum.accumulate(np.column_stack(columns).astype(float), axis=1)
    return probs, quantiles


def map_to_marginals(raw: np.ndarray, probs: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Map each step's raw values, rank for rank, onto a reported quantile function.

    Parameters
    ----------
    raw : ndarray of shape (horizon, n_paths)
        Paths carrying the model's dependence across steps (any marginal scale).
    probs : ndarray of shape (k,)
        Increasing probabilities at which the quantile function is known (k >= 2).
    quantiles : ndarray of shape (horizon, k)
        Non-decreasing quantiles per step.

    Returns
    -------
    ndarray of shape (horizon, n_paths)
        Path ``i`` at step ``h`` becomes the reported quantile at the rank probability
        ``(r + 0.5) / n_paths`` of its raw value (``r`` = number of smaller raw values).

    Notes
    -----
    Between grid probabilities the quantile function is interpolated linearly in the normal
    score :math:`z = \\Phi^{-1}(p)`; beyond the grid (``p`` below 0.005 or above 0.995 with the
    default grid) it is extrapolated linearly in :math:`z` with the slope between the outermost
    grid point and the one at ``p = 0.025`` / ``0.975`` (a normal tail with the local spread),
    so a few hundred paths do not pile up on the outermost reported bound.
    """
    n_steps, n_paths = raw.shape
    ranks = np.argsort(np.argsort(raw, axis=1, kind="stable"), axis=1, kind="stable")
    z = ndtri((ranks + 0.5) / n_paths)
    grid = ndtri(np.asarray(probs, dtype=float))
    inner_lo = int(np.searchsorted(grid, ndtri(0.025)))
    inner_hi = int(np.searchsorted(grid, ndtri(0.975))) - 1
    inner_lo = min(max(inner_lo, 1), len(grid) - 1)
    inner_hi = max(min(inner_hi, len(grid) - 2), 0)
    out = np.empty((n_steps, n_paths))
    for step in range(n_steps):
        q = quantiles[step]
        values = np.interp(z[step], grid, q)
        low, high = z[step] < grid[0], z[step] > grid[-1]
        slope_lo = (q[inner_lo] - q[0]) / (grid[inner_lo] - grid[0])
        slope_hi = (q[-1] - q[inner_hi]) / (grid[-1] - grid[inner_hi])
        values[low] = q[0] + slope_lo * (z[step][low] - grid[0])
        values[high] = q[-1] + slope_hi * (z[step][high] - grid[-1])
        out[step] = values
    return out
