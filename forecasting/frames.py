"""Column names and builders for forecast frames (the single source of these names).

A forecast frame is indexed ``ds`` and has the columns ``mean``, then ``lo_<L>`` and
``hi_<L>`` for each level ``L`` in ascending order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from forecasting.exceptions import ModelFitError

__all__ = [
    "CUTOFF",
    "DS",
    "H",
    "MEAN",
    "MEDIAN",
    "MODEL",
    "UNIQUE_ID",
    "Y",
    "build_forecast_frame",
    "future_index",
    "hi_col",
    "interval_columns",
    "levels_in",
    "lo_col",
]

UNIQUE_ID = "unique_id"
DS = "ds"
Y = "y"
MEAN = "mean"
#: The median over sample paths: the headline of growth and full-year summaries.
MEDIAN = "median"
MODEL = "model"
CUTOFF = "cutoff"
H = "h"

#: Relative tolerance when checking that intervals contain the mean and nest.
_TOL = 1e-9


def lo_col(level: int) -> str:
    """Name of the lower-bound column for ``level`` (``lo_95``)."""
    return f"lo_{int(level)}"


def hi_col(level: int) -> str:
    """Name of the upper-bound column for ``level`` (``hi_95``)."""
    return f"hi_{int(level)}"


def levels_in(columns: Sequence[str]) -> list[int]:
    """The levels whose ``lo_<L>`` column is among ``columns``, ascending."""
    prefix = lo_col(0)[:-1]
    return sorted(int(c.removeprefix(prefix)) for c in columns if c.startswith(prefix))


def interval_columns(levels: Sequence[int]) -> list[str]:
    """``[lo_L1, hi_L1, lo_L2, hi_L2, ...]`` for ascending ``levels``."""
    cols: list[str] = []
    for level in sorted(set(levels)):
        cols += [lo_col(level), hi_col(level)]
    return cols


def future_index(index: pd.Index, horizon: int) -> pd.Index:
    """The ``horizon`` periods that follow ``index``, of the same type and ``freq``."""
    if isinstance(index, pd.PeriodIndex):
        out: pd.Index = pd.period_range(start=index[-1] + 1, periods=horizon, freq=index.freq)
    elif isinstance(index, pd.DatetimeIndex):
        out = pd.date_range(start=index[-1], periods=horizon + 1, freq=index.freq)[1:]
    else:  # pragma: no cover - check_series rejects other index types
        raise TypeError(f"unsupported index type {type(index).__name__}")
    out.name = DS
    return out


def build_forecast_frame(
    index: pd.Index,
    mean: np.ndarray,
    intervals: Mapping[int, tuple[np.ndarray, np.ndarray]],
    *,
    model_name: str = "model",
) -> pd.DataFrame:
    """Assemble and check a forecast frame.

    Parameters
    ----------
    index : pd.Index
        The future index (see :func:`future_index`).
    mean : ndarray of shape (horizon,)
        Point forecasts.
    intervals : mapping level -> (lo, hi)
        Interval bounds per level.
    model_name : str
        Used in error messages.

    Raises
    ------
    ModelFitError
        If shapes differ, values are not finite, an interval does not contain the mean,
        or a wider level does not contain a narrower one.
    """
    horizon = len(index)
    mean = np.asarray(mean, dtype=float).reshape(-1)
    if mean.shape != (horizon,):
        raise ModelFitError(f"{model_name} returned {mean.shape[0]} forecasts; expected {horizon}.")
    if not np.all(np.isfinite(mean)):
        raise ModelFitError(f"{model_name} produced non-finite point forecasts.")
    data: dict[str, np.ndarray] = {MEAN: mean}
    prev: tuple[np.ndarray, np.ndarray] | None = None
    for level in sorted(intervals):
        lo, hi = (np.asarray(a, dtype=float).reshape(-1) for a in intervals[level])
        if lo.shape != (horizon,) or hi.shape != (horizon,):
            raise ModelFitError(f"{model_name} returned bounds of the wrong length for level {level}.")
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ModelFitError(f"{model_name} produced non-finite interval bounds at level {level}.")
        scale = _TOL * (1.0 + np.abs(mean))
        if np.any(lo > mean + scale) or np.any(hi < mean - scale):
            raise ModelFitError(f"{model_name}: the {level}% interval does not contain the mean.")
        if prev is not None and (np.any(lo > prev[0] + scale) or np.any(hi < prev[1] - scale)):
            raise ModelFitError(f"{model_name}: the {level}% interval does not contain narrower ones.")
        data[lo_col(level)] = np.minimum(lo, mean)
        data[hi_col(level)] = np.maximum(hi, mean)
        prev = (data[lo_col(level)], data[hi_col(level)])
    frame = pd.DataFrame(data, index=index)
    frame.index.name = DS
    return frame
