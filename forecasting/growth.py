"""Growth from sample paths: year-on-year change, change against a base year, index.

Every function takes the observed series ``y`` and sample paths that continue it (from
:func:`~forecasting.paths.simulate`), computes the quantity path by path, and summarises it
by the median over paths (the headline, ``attrs["headline"] == "median"``), the mean
alongside, and central intervals of the paths' quantiles; never from the forecast's bounds
(a ratio of two bounds is not a bound of the ratio). Periods that are observed enter every
path with their observed value.

Percent changes are ``100 * (value / comparison - 1)``; the index is
``100 * value / base``. A path whose comparison value is not positive has no growth rate
and is left out of that row's statistics (its entry is NaN); an observed comparison value
that is not positive is an error.

Examples
--------
>>> paths = simulate(y, horizon=24, n_paths=2000, seed=0)  # doctest: +SKIP
>>> yoy_change(y, paths)                   # each month against the same month a year earlier
>>> annual_change(y, paths)                # calendar-year totals against the year before
>>> base_change(y, paths, base=2023)       # calendar-year totals against the 2023 total
>>> growth_index(y, paths, base=2023)      # 2023 = 100
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.core import DEFAULT_LEVELS
from forecasting.exceptions import InvalidParameterError, InvalidSeriesError
from forecasting.frames import DS
from forecasting.paths import HOWS, periods_per_year, summarize_paths, to_periods
from forecasting.validation import check_series

__all__ = ["annual_change", "annual_totals", "base_change", "growth_index", "yoy_change"]


def yoy_change(y: pd.Series, paths: pd.DataFrame, levels: Sequence[int] = DEFAULT_LEVELS) -> pd.DataFrame:
    """Percent change of every forecast period against the same period a year earlier.

    Parameters
    ----------
    y : pd.Series
        The observed series the paths continue (monthly, quarterly or annual).
    paths : pd.DataFrame
        Sample paths from :func:`~forecasting.paths.simulate` on ``y`` (index continuing
        ``y``'s, one column per path).
    levels : sequence of int
        Interval levels in percent.

    Returns
    -------
    pd.DataFrame
        Indexed like ``paths`` (``ds``), columns ``mean``, ``median`` (the headline),
        ``lo_<L>``, ``hi_<L>`` of the change in percent (12 months earlier for monthly data,
        4 quarters for quarterly, the previous year for annual data).

    Raises
    ------
    InvalidParameterError
        If ``paths`` does not continue ``y``.
    InvalidSeriesError
        If an observed comparison value is not positive.
    """
    y, values = _history_and_paths(y, paths)
    lag = periods_per_year(y.index)
    n_hist = len(y)
    if n_hist < lag:
        raise InvalidSeriesError(f"year-on-year change needs at least {lag} observations; got {n_hist}.")
    previous = values[n_hist - lag : len(values) - lag]
    # The first min(lag, horizon) comparison values are observed ones.
    _check_positive_observed(previous[:, 0], y.index[n_hist - lag :], min(lag, len(paths)))
    change = _percent(values[n_hist:], previous)
    return summarize_paths(change, paths.index, levels)


def annual_totals(y: pd.Series, paths: pd.DataFrame, how: str = "sum") -> tuple[pd.PeriodIndex, np.ndarray, int]:
    """Calendar-year aggregates of history plus paths, for every complete calendar year.

    Parameters
    ----------
    y, paths
        As for :func:`yoy_change`.
    how : {"sum", "mean"}
        Total or average of each year's periods.

    Returns
    -------
    years : pd.PeriodIndex
        Annual periods whose every period is observed or simulated, ascending.
    totals : ndarray of shape (len(years), n_paths)
        Each year's aggregate per path (the same in every path for fully observed years).
    first_forecast : int
        Position in ``years`` of the first year that contains a simulated period.

    Raises
    ------
    InvalidParameterError
        For an unknown ``how``, or ``paths`` that do not continue ``y`` or do not complete
        the first forecast year.
    """
    if how not in HOWS:
        raise InvalidParameterError(f"how must be one of {HOWS}; got {how!r}.")
    y, values = _history_and_paths(y, paths)
    per_year = periods_per_year(y.index)
    periods = to_periods(y.index).append(to_periods(paths.index))
    frame = pd.DataFrame(values, index=periods.year)
    counts = frame.groupby(level=0).size()
    complete = counts.index[counts == per_year]
    aggregate = frame.groupby(level=0).sum() if how == "sum" else frame.groupby(level=0).mean()
    aggregate = aggregate.loc[complete]
    first_forecast_year = to_periods(paths.index)[0].year
    if not (aggregate.index >= first_forecast_year).any():
        needed = per_year - int(np.sum(to_periods(y.index).year == first_forecast_year))
        raise InvalidParameterError(
            f"the paths end at {to_periods(paths.index)[-1]}, before {first_forecast_year} is complete; "
            f"simulate a horizon of at least {needed} periods."
        )
    years = pd.PeriodIndex([pd.Period(year=int(v), freq="Y") for v in aggregate.index], name=DS)
    first = int(np.argmax(aggregate.index >= first_forecast_year))
    return years, aggregate.to_numpy(dtype=float), first


def annual_change(
    y: pd.Series, paths: pd.DataFrame, levels: Sequence[int] = DEFAULT_LEVELS, how: str = "sum"
) -> pd.DataFrame:
    """Percent change of each forecast calendar year's total (or average) against the year before.

    For annual data this is :func:`yoy_change`. Parameters and errors as for
    :func:`annual_totals` and :func:`yoy_change`.

    Returns
    -------
    pd.DataFrame
        Indexed by the annual periods (``ds``) that contain a simulated period and whose
        previous year is complete; columns ``mean``, ``median``, ``lo_<L>``, ``hi_<L>`` in percent.
    """
    years, totals, first = annual_totals(y, paths, how)
    if first == 0:
        raise InvalidSeriesError(
            f"the year before {years[0]} is not complete in the observed series, so there is no annual change."
        )
    _check_positive_observed(totals[first - 1], years[first - 1 : first], 1)
    change = _percent(totals[first:], totals[first - 1 : -1])
    return summarize_paths(change, years[first:], levels)


def base_change(
    y: pd.Series,
    paths: pd.DataFrame,
    levels: Sequence[int] = DEFAULT_LEVELS,
    base: int | str | pd.Period | None = None,
    how: str = "sum",
) -> pd.DataFrame:
    """Percent change of each forecast calendar year's total (or average) against a base year.

    Parameters
    ----------
    y, paths, levels, how
        As for :func:`annual_change`.
    base : int, str, pd.Period or None
        The base calendar year; it must be completely observed. None means the last
        complete calendar year of ``y`` (for the bundled annual GACC series ending in 2023,
        2023).

    Returns
    -------
    pd.DataFrame
        Indexed by the annual periods (``ds``) that contain a simulated period; columns
        ``mean``, ``median``, ``lo_<L>``, ``hi_<L>`` in percent. ``frame.attrs["base"]`` is the base year.

    Raises
    ------
    InvalidParameterError
        If ``base`` is not a completely observed calendar year of ``y``.
    InvalidSeriesError
        If the base year's value is not positive.
    """
    years, totals, first, base_year, base_value = _against_base(y, paths, base, how)
    out = summarize_paths(_percent(totals[first:], np.full_like(totals[first:], base_value)), years[first:], levels)
    out.attrs["base"] = base_year
    return out


def growth_index(
    y: pd.Series,
    paths: pd.DataFrame,
    levels: Sequence[int] = DEFAULT_LEVELS,
    base: int | str | pd.Period | None = None,
    how: str = "sum",
) -> pd.DataFrame:
    """Index of each forecast calendar year's total (or average), base year = 100.

    Parameters, errors and base year as for :func:`base_change`; the values are
    ``100 * total / base total`` (so ``index - 100`` is :func:`base_change`).
    """
    years, totals, first, base_year, base_value = _against_base(y, paths, base, how)
    out = summarize_paths(100.0 * totals[first:] / base_value, years[first:], levels)
    out.attrs["base"] = base_year
    return out


# --------------------------------------------------------------------------- helpers
def _history_and_paths(y: pd.Series, paths: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """``y`` validated and the (n_obs + horizon, n_paths) array of history then paths."""
    y = check_series(y)
    if not isinstance(paths, pd.DataFrame) or paths.empty:
        raise InvalidParameterError("paths must be a non-empty DataFrame from simulate(), one column per path.")
    hist, future = to_periods(y.index), to_periods(paths.index)
    if future.freqstr != hist.freqstr or future[0] != hist[-1] + 1 or len(future) != (future[-1] - future[0]).n + 1:
        raise InvalidParameterError(
            f"paths must continue y: y ends at {hist[-1]} ({hist.freqstr}), paths start at {future[0]} "
            f"({future.freqstr}). Simulate them from the same series."
        )
    n_paths = paths.shape[1]
    history = np.repeat(y.to_numpy(dtype=float)[:, None], n_paths, axis=1)
    return y, np.vstack([history, paths.to_numpy(dtype=float)])


def _percent(values: np.ndarray, comparison: np.ndarray) -> np.ndarray:
    """``100 * (values / comparison - 1)``, NaN where the comparison is not positive."""
    ok = comparison > 0
    return np.where(ok, 100.0 * (values / np.where(ok, comparison, 1.0) - 1.0), np.nan)


def _check_positive_observed(values: np.ndarray, index: pd.Index, n_observed: int) -> None:
    """Observed comparison values (the first ``n_observed`` rows of ``values``) must be positive."""
    rows = np.asarray(values, dtype=float)[:n_observed]
    bad = np.flatnonzero(~(rows > 0))
    if bad.size:
        raise InvalidSeriesError(
            f"growth needs positive comparison values; the observed value at {index[int(bad[0])]} is "
            f"{rows[int(bad[0])]:g}."
        )


def _against_base(
    y: pd.Series, paths: pd.DataFrame, base: int | str | pd.Period | None, how: str
) -> tuple[pd.PeriodIndex, np.ndarray, int, pd.Period, float]:
    years, totals, first = annual_totals(y, paths, how)
    observed_years = years[:first]
    if base is None:
        if first == 0:
            raise InvalidParameterError(
                f"series {y.name!r} has no completely observed calendar year to use as the base; give base=."
            )
        base_year = observed_years[-1]
    else:
        try:
            base_year = pd.Period(str(base.year if isinstance(base, pd.Period) else base), freq="Y")
        except (ValueError, TypeError):
            raise InvalidParameterError(f"base must be a calendar year such as 2023; got {base!r}.") from None
        if base_year not in observed_years:
            raise InvalidParameterError(
                f"base={base!r} is not a completely observed calendar year of series {y.name!r}; "
                f"choose one of {observed_years[0]}..{observed_years[-1]}."
                if len(observed_years)
                else f"base={base!r}: series {y.name!r} has no completely observed calendar year."
            )
    base_value = float(totals[observed_years.get_loc(base_year), 0])
    if not base_value > 0:
        raise InvalidSeriesError(f"growth needs a positive base; the {base_year} value is {base_value:g}.")
    return years, totals, first, base_year, base_value
