"""Sample paths and what is aggregated over forecast steps: :func:`simulate`, :func:`full_year`.

Per-period intervals cannot answer questions about several future periods together (a sum
of 95% bounds is not a 95% bound on the sum). Sample paths can: every path is one possible
future, drawn from the predictive distribution that :func:`~forecasting.forecast` reports
and dependent across steps as the model says, so any function of several periods (a
calendar-year total, a growth rate, an index) is computed path by path and summarised by its
mean and quantiles. Growth rates are in :mod:`forecasting.growth`; how each model makes its
paths is described in ``docs/paths.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import DEFAULT_LEVELS, describe_output, fit_model
from forecasting.exceptions import InvalidParameterError, InvalidSeriesError
from forecasting.frames import DS, MEAN, MEDIAN, hi_col, lo_col
from forecasting.sampling import check_n_paths
from forecasting.validation import (
    check_horizon,
    check_levels,
    check_series,
)

__all__ = [
    "HEADLINE",
    "HOWS",
    "full_year",
    "full_year_from_paths",
    "full_year_target",
    "periods_per_year",
    "simulate",
    "summarize_paths",
    "to_periods",
]

#: How a calendar year aggregates its periods: a total (values, trade) or an average
#: (shares, rates).
HOWS = ("sum", "mean")

#: The statistic of the paths that growth and full-year summaries quote first (see
#: :func:`summarize_paths`); the mean is given alongside.
HEADLINE = MEDIAN

OBSERVED = "observed"
PERIODS_OBSERVED = "periods_observed"

_PER_YEAR = {"M": 12, "Q": 4, "Y": 1, "A": 1}


def simulate(
    y: pd.Series,
    horizon: int,
    n_paths: int = 1000,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    seed: int | None = None,
    nonnegative: bool | None = None,
) -> pd.DataFrame:
    """Fit ``model`` to ``y`` and draw ``n_paths`` future sample paths.

    Parameters
    ----------
    y : pd.Series
        Float series with a regular ``PeriodIndex`` (or ``DatetimeIndex``) with ``freq``.
    horizon : int
        Number of periods ahead (>= 1).
    n_paths : int
        Number of paths (1..100,000).
    model : str or BaseForecaster
        A registered name or a model instance. Default ``"auto"``.
    kind : {"level", "share"}
        ``"share"`` simulates on the logit scale and back-transforms, so every path stays
        inside (0, 1).
    seed : int or None
        The same seed gives the same paths; None draws fresh ones.
    nonnegative : bool or None
        As in :func:`~forecasting.forecast`: None (default) censors the paths at zero for a
        ``level`` series with no negative value, so every path is >= 0; False turns it off.

    Returns
    -------
    pd.DataFrame
        Indexed ``ds`` exactly like :func:`~forecasting.forecast`'s frame, one column per path
        (``0 .. n_paths - 1``). At every step the quantiles of the paths agree with the
        bounds :func:`~forecasting.forecast` reports for the same data and model; across steps
        the paths are dependent as the model says. ``frame.attrs`` holds ``model``,
        ``interval_method`` and ``nonnegative``.

    Raises
    ------
    InvalidSeriesError, InsufficientDataError, InvalidParameterError, NotFoundError,
    ModelFitError

    Notes
    -----
    Each model simulates raw paths with its own error structure (random-walk increments,
    the ETS state-space recursion, ARIMA with its differencing, ...), and each step's raw
    values are then mapped, rank for rank, onto the quantile function the model reports at
    that step; for ``auto`` that is the calibrated one. See ``docs/paths.md``.

    Examples
    --------
    >>> paths = simulate(y, horizon=12, n_paths=2000, seed=1)  # doctest: +SKIP
    >>> paths.sum().quantile([0.1, 0.9])  # 80% interval of the 12-period total  # doctest: +SKIP
    """
    horizon = check_horizon(horizon)
    n_paths = check_n_paths(n_paths)
    fitted = fit_model(y, model, kind, nonnegative=nonnegative)
    return describe_output(fitted.sample_paths(horizon, n_paths, random_state=seed), fitted, model, y)


def to_periods(index: pd.Index) -> pd.PeriodIndex:
    """``index`` as a ``PeriodIndex`` (a ``DatetimeIndex`` is converted at its frequency)."""
    if isinstance(index, pd.PeriodIndex):
        return index
    if isinstance(index, pd.DatetimeIndex):
        return index.to_period()
    raise InvalidSeriesError(f"expected a PeriodIndex or DatetimeIndex; got {type(index).__name__}.")


def periods_per_year(index: pd.Index) -> int:
    """Periods in a calendar year for the frequency of ``index``: 12, 4 or 1.

    Raises
    ------
    InvalidSeriesError
        For any other frequency (weekly, daily, ...).
    """
    periods = to_periods(index)
    code = periods.freqstr.upper()[:1]
    if code not in _PER_YEAR:
        raise InvalidSeriesError(
            f"calendar-year arithmetic needs monthly, quarterly or annual data; got frequency {periods.freqstr!r}."
        )
    return _PER_YEAR[code]


def summarize_paths(values: np.ndarray, index: pd.Index, levels: Sequence[int] = DEFAULT_LEVELS) -> pd.DataFrame:
    """Median, mean and central intervals of path values, one row per entry of ``index``.

    Parameters
    ----------
    values : ndarray of shape (len(index), n_paths)
        One row of path values per output row. NaN values (a growth rate against a value
        that is not positive) are left out of that row's statistics.
    index : pd.Index
        The rows' index (named ``ds`` in the output).
    levels : sequence of int
        Interval levels in percent.

    Returns
    -------
    pd.DataFrame
        Columns ``mean``, ``median``, ``lo_<L>``, ``hi_<L>`` (levels ascending): the mean and
        the median of the paths and their ``50 -+ L / 2`` percentiles. A row whose values are
        all NaN is all NaN. ``attrs["headline"]`` is ``"median"``: the figure to quote.

    Notes
    -----
    The median is the headline because a statistic of paths is often skewed: paths censored
    at zero, or simulated on the log scale, give growth rates with a long tail that pulls
    the mean away from what most paths do (+13% mean growth beside a path from 234.9 to
    238.2). The median is the 50% point of the same quantiles as the band, so it always lies
    inside every band; the mean stays alongside.
    """
    levels = check_levels(levels)
    values = np.atleast_2d(np.asarray(values, dtype=float))
    valid = ~np.isnan(values)
    counts = valid.sum(axis=1)
    has_any = counts > 0
    sums = np.where(valid, values, 0.0).sum(axis=1)
    columns: dict[str, np.ndarray] = {MEAN: np.where(has_any, sums / np.maximum(counts, 1), np.nan)}
    probs = [0.5, *(p for lv in levels for p in (0.5 - lv / 200.0, 0.5 + lv / 200.0))]
    q = np.full((len(values), len(probs)), np.nan)
    for row in np.flatnonzero(has_any):
        q[row] = np.quantile(values[row][valid[row]], probs)
    columns[MEDIAN] = q[:, 0]
    for i, lv in enumerate(levels):
        columns[lo_col(lv)], columns[hi_col(lv)] = q[:, 1 + 2 * i], q[:, 2 + 2 * i]
    out = pd.DataFrame(columns, index=index)
    out.index.name = DS
    out.attrs["headline"] = HEADLINE
    return out


def full_year(
    y: pd.Series,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    how: str = "sum",
    *,
    n_paths: int = 2000,
    seed: int | None = 0,
    nonnegative: bool | None = None,
) -> pd.DataFrame:
    """Year-to-date to full year: the calendar-year total (or average) of a monthly or
    quarterly series, from what is observed plus sample paths of the rest of the year.

    Parameters
    ----------
    y : pd.Series
        Monthly or quarterly series (regular ``PeriodIndex`` or ``DatetimeIndex``) that holds
        every period of its last calendar year up to its last observation.
    levels : sequence of int
        Interval levels in percent.
    model : str or BaseForecaster
        The model that simulates the remaining periods. Default ``"auto"``.
    kind : {"level", "share"}
        ``"share"`` for proportions (simulated on the logit scale); use with ``how="mean"``.
    how : {"sum", "mean"}
        ``"sum"`` for totals (trade values), ``"mean"`` for the annual average (shares,
        rates).
    n_paths : int
        Number of sample paths (default 2,000).
    seed : int or None
        Seed of the paths (default 0, so the same input gives the same answer).
    nonnegative : bool or None
        As in :func:`simulate`: None (default) keeps the remaining periods >= 0 for a level
        series with no negative value.

    Returns
    -------
    pd.DataFrame
        One row indexed by the annual period (``ds``): the calendar year of the last
        observation, or the next year when the last observation completes its year.
        Columns ``observed`` (the year-to-date sum, or mean with ``how="mean"``; 0 for a sum
        and NaN for a mean when nothing of the year is observed), ``periods_observed``, then
        ``mean``, ``median``, ``lo_<L>``, ``hi_<L>`` of the calendar-year total (or average),
        from the paths of the remaining periods plus what is observed.
        ``attrs["headline"]`` is ``"median"`` (see :func:`summarize_paths`).

    Raises
    ------
    InvalidSeriesError
        For annual (or other non monthly/quarterly) data, or a series that starts inside its
        last calendar year (its year-to-date is incomplete).
    InvalidParameterError
        For an unknown ``how``, bad ``levels``, ``n_paths`` or ``kind``.
    InsufficientDataError, ModelFitError, NotFoundError
        From the model.
    """
    levels = check_levels(levels)
    _year, seen = full_year_target(y, how)
    # full_year_target moves a complete year to the next one, so at least one period remains.
    paths = simulate(
        y,
        periods_per_year(y.index) - len(seen),
        n_paths=n_paths,
        model=model,
        kind=kind,
        seed=seed,
        nonnegative=nonnegative,
    )
    return full_year_from_paths(y, paths, levels, how)


def full_year_target(y: pd.Series, how: str = "sum") -> tuple[pd.Period, pd.Series]:
    """The calendar year :func:`full_year` forecasts and its observed periods.

    Parameters
    ----------
    y : pd.Series
        Monthly or quarterly series.
    how : {"sum", "mean"}
        Checked here so that a bad value fails before any fit.

    Returns
    -------
    year : pd.Period
        The annual period of the last observation, or the next year when the last
        observation completes its year.
    seen : pd.Series
        The observed periods of ``year`` (empty when nothing of it is observed).

    Raises
    ------
    InvalidParameterError
        For an unknown ``how``.
    InvalidSeriesError
        For annual (or other non monthly/quarterly) data, or a series that starts inside
        its last calendar year.
    """
    if how not in HOWS:
        raise InvalidParameterError(f"how must be one of {HOWS}; got {how!r}.")
    y = check_series(y)
    per_year = periods_per_year(y.index)
    if per_year == 1:
        raise InvalidSeriesError(
            f"full_year needs a monthly or quarterly series; {y.name!r} is annual, so each value already is a year."
        )
    return _year_to_date(y, per_year)


def full_year_from_paths(
    y: pd.Series, paths: pd.DataFrame, levels: Sequence[int] = DEFAULT_LEVELS, how: str = "sum"
) -> pd.DataFrame:
    """:func:`full_year` from sample paths already drawn (they must reach the year's end).

    Parameters
    ----------
    y : pd.Series
        The observed monthly or quarterly series.
    paths : pd.DataFrame
        Sample paths from :func:`simulate` on ``y``, at least up to the end of the target
        year (see :func:`full_year_target`); later rows are ignored.
    levels : sequence of int
        Interval levels in percent.
    how : {"sum", "mean"}
        Calendar-year total or average.

    Returns
    -------
    pd.DataFrame
        The one-row frame described in :func:`full_year`.

    Raises
    ------
    InvalidParameterError
        For an unknown ``how`` or bad ``levels``, or paths too short for the target year.
    InvalidSeriesError
        As for :func:`full_year_target`.
    """
    levels = check_levels(levels)
    year, seen = full_year_target(y, how)
    per_year = periods_per_year(y.index)
    observed = seen.to_numpy(dtype=float)
    remaining = per_year - len(observed)
    if len(paths) < remaining:
        raise InvalidParameterError(f"full year {year} needs paths of at least {remaining} periods; got {len(paths)}.")
    totals = observed.sum() + paths.to_numpy(dtype=float)[:remaining].sum(axis=0)
    if how == "mean":
        totals = totals / per_year
        ytd = float(observed.mean()) if len(observed) else float("nan")
    else:
        ytd = float(observed.sum())
    summary = summarize_paths(totals[None, :], pd.PeriodIndex([year], freq="Y", name=DS), levels)
    summary.insert(0, PERIODS_OBSERVED, len(observed))
    summary.insert(0, OBSERVED, ytd)
    return summary


def _year_to_date(y: pd.Series, per_year: int) -> tuple[pd.Period, pd.Series]:
    """The target calendar year and its observed periods (empty when the last one is complete)."""
    periods = to_periods(y.index)
    last = periods[-1]
    position = last.month if per_year == 12 else last.quarter
    if position == per_year:
        return pd.Period(year=last.year + 1, freq="Y"), y.iloc[:0]
    in_year = periods.year == last.year
    if int(in_year.sum()) != position:
        raise InvalidSeriesError(
            f"full_year needs every period of {last.year} up to {last}; series {y.name!r} starts at "
            f"{periods[0]}, so its year-to-date is incomplete."
        )
    return pd.Period(year=last.year, freq="Y"), y.iloc[-position:]
