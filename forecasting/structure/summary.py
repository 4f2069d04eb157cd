"""Bounds of a forecast from sample paths, consistent with a given mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["path_bounds"]


def path_bounds(paths: np.ndarray, mean: np.ndarray, levels: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Central intervals of ``paths`` (horizon, n_series, n_paths) at each level.

    Bounds are the ``50 -+ L/2`` percentiles of the paths, so wider levels nest narrower
    ones. A bound is moved onto ``mean`` (horizon, n_series) where the mean lies outside it
    (possible only for a very skewed distribution at a low level), so that
    ``lo <= mean <= hi`` always holds.
    """
    probs = sorted({p for lv in levels for p in (0.5 - lv / 200.0, 0.5 + lv / 200.0)})
    q = dict(zip(probs, np.quantile(paths, probs, axis=-1), strict=True))
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for lv in sorted(levels):
        lo = np.minimum(q[0.5 - lv / 200.0], mean)
        hi = np.maximum(q[0.5 + lv / 200.0], mean)
        out[lv] = (lo, hi)
    return out
