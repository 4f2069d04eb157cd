"""Drivers (exogenous regressors): checks that ``X`` fits ``y`` and ``X_future`` the horizon.

A model that takes drivers is fitted with ``fit(y, X)`` and forecasts with
``predict(horizon, levels, X_future)``. ``X`` holds one numeric column per driver on exactly
``y``'s index; ``X_future`` holds the same columns over the ``horizon`` periods that follow.
Drivers have no gaps, even where ``y`` has (``missing="model"``): a Kalman filter can skip a
missing observation of ``y`` but not an unknown regressor.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecasting.exceptions import FutureDriversError, InvalidDriversError

__all__ = ["check_drivers", "check_future_drivers", "split_drivers"]


def _as_frame(X: Any, name: str, error: type[InvalidDriversError] | type[FutureDriversError]) -> pd.DataFrame:
    if isinstance(X, pd.Series):
        X = X.to_frame(name=X.name if X.name is not None else "x")
    if not isinstance(X, pd.DataFrame):
        raise error(f"{name} must be a pandas DataFrame (one column per driver); got {type(X).__name__}.")
    if X.shape[1] == 0:
        raise error(f"{name} has no columns; give one column per driver, or None for no drivers.")
    if X.columns.has_duplicates:
        raise error(f"{name} has duplicate column names: {sorted(set(X.columns[X.columns.duplicated()]))}.")
    try:
        values = X.apply(pd.to_numeric, errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} must hold numbers in every column; {exc}") from exc
    arr = values.to_numpy()
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise error(
            f"{name} has {int(bad.sum())} missing or infinite value(s), the first in column "
            f"{values.columns[col]!r} at {values.index[row]}; drivers must be known for every period."
        )
    return values


def _same_periods(a: pd.Index, b: pd.Index) -> bool:
    if type(a) is not type(b) or len(a) != len(b):
        return False
    return bool(a.equals(b))


def check_drivers(X: Any, index: pd.Index, *, name: str = "X") -> pd.DataFrame:
    """Validate drivers for fitting on a series with ``index``.

    Parameters
    ----------
    X : pd.DataFrame or pd.Series
        One numeric column per driver, indexed exactly like ``y`` (same periods, same
        index type).
    index : pd.Index
        ``y``'s index.
    name : str
        Parameter name used in messages.

    Returns
    -------
    pd.DataFrame
        A float copy of ``X`` (a Series becomes a one-column frame).

    Raises
    ------
    InvalidDriversError
        ``X`` is not a frame, has no or duplicate columns, non-numeric, missing or infinite
        values, or an index other than ``y``'s.
    """
    values = _as_frame(X, name, InvalidDriversError)
    if not _same_periods(values.index, index):
        raise InvalidDriversError(
            f"{name} must be indexed exactly like y ({len(index)} periods {_span(index)}, "
            f"{type(index).__name__}); got {len(values.index)} rows {_span(values.index)} "
            f"({type(values.index).__name__}). Align it with X.reindex(y.index)."
        )
    return values


def check_future_drivers(X_future: Any, index: pd.Index, columns: pd.Index, *, name: str = "X_future") -> pd.DataFrame:
    """Validate drivers over the forecast horizon.

    Parameters
    ----------
    X_future : pd.DataFrame or pd.Series
        The drivers' values over the horizon.
    index : pd.Index
        The forecast index (``horizon`` periods continuing the training index).
    columns : pd.Index
        The drivers the model was fitted with, in order.

    Returns
    -------
    pd.DataFrame
        A float frame with ``columns`` in the fitted order.

    Raises
    ------
    FutureDriversError
        ``X_future`` has other columns, another number of rows than the horizon, an index
        that does not continue the training index, or missing values.
    """
    values = _as_frame(X_future, name, FutureDriversError)
    if set(values.columns) != set(columns):
        raise FutureDriversError(
            f"{name} has columns {list(values.columns)}; the model was fitted with drivers {list(columns)}."
        )
    if not _same_periods(values.index, index):
        raise FutureDriversError(
            f"{name} must have one row per forecast period, {len(index)} rows {_span(index)} "
            f"({type(index).__name__}); got {len(values.index)} rows {_span(values.index)}."
        )
    return values[list(columns)]


def split_drivers(drivers: Any, index: pd.Index, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one table of drivers covering history and horizon into ``X`` and ``X_future``.

    What a caller holding a single table of drivers by period (a request body, a
    spreadsheet) needs: rows on ``y``'s periods become ``X`` and the ``horizon`` periods
    after them ``X_future``. Rows outside that span are ignored (a longer driver history
    is common); a period inside it without a row, or with a missing value, is an error.

    Parameters
    ----------
    drivers : pd.DataFrame or pd.Series
        One numeric column per driver, indexed by period like ``y``.
    index : pd.Index
        ``y``'s index (``PeriodIndex`` or ``DatetimeIndex`` with ``freq``).
    horizon : int
        Forecast periods after ``index``.

    Returns
    -------
    X, X_future : pd.DataFrame
        Validated as by :func:`check_drivers` and :func:`check_future_drivers`.

    Raises
    ------
    InvalidDriversError
        A period of ``y`` has no driver row or a gap.
    FutureDriversError
        A forecast period has no driver row or a gap.
    """
    from forecasting.frames import future_index

    frame = drivers.to_frame() if isinstance(drivers, pd.Series) else drivers
    if not isinstance(frame, pd.DataFrame):
        raise InvalidDriversError(f"drivers must be a pandas DataFrame; got {type(frame).__name__}.")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise InvalidDriversError(f"drivers have more than one row for period {dup}.")
    future = future_index(index, horizon)
    X = _reindexed(frame, index, "X (drivers over the history)", InvalidDriversError)
    X_future = _reindexed(frame, future, "X_future (drivers over the horizon)", FutureDriversError)
    X = check_drivers(X, index)
    return X, check_future_drivers(X_future, future, X.columns)


def _reindexed(
    frame: pd.DataFrame, index: pd.Index, name: str, error: type[InvalidDriversError] | type[FutureDriversError]
) -> pd.DataFrame:
    if type(frame.index) is not type(index) or getattr(frame.index, "freq", None) != getattr(index, "freq", None):
        raise error(
            f"drivers are indexed by {type(frame.index).__name__} (freq {getattr(frame.index, 'freq', None)}); "
            f"y by {type(index).__name__} (freq {getattr(index, 'freq', None)}). Index them alike."
        )
    absent = index.difference(frame.index)
    if len(absent):
        raise error(
            f"{name} {list(frame.columns)} lack {len(absent)} period(s), the first {absent[0]}; give every "
            f"driver for every period {_span(index)}."
        )
    return frame.reindex(index)


def _span(index: pd.Index) -> str:
    if len(index) == 0:
        return "(empty)"
    return f"from {index[0]} to {index[-1]}"
