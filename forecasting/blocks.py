"""The growth and full-year blocks of a forecast: their options, their checks and their horizon.

:func:`forecasting.fit_forecast` (and :func:`~forecasting.forecast_outlook` on it) computes
the blocks from the fit's sample paths; this module holds what it checks them with, so that
the checks are the library's own and run once, before the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.exceptions import InvalidParameterError
from forecasting.frames import future_index
from forecasting.paths import HOWS, periods_per_year, to_periods
from forecasting.validation import (
    check_horizon,
    check_kind,
    check_series,
)

__all__ = [
    "FullYearOptions",
    "GrowthBlocks",
    "GrowthOptions",
    "Outlook",
    "check_base",
    "default_how",
    "outlook_history",
    "outlook_horizon",
]


@dataclass(frozen=True)
class GrowthOptions:
    """Which growth blocks to compute.

    Attributes
    ----------
    yoy : bool
        Each forecast period against the same period a year earlier.
    base : int, str or None
        The base calendar year of the change and the index (``2023`` or ``"2023"``); None
        means the last completely observed calendar year.
    how : {"sum", "mean"} or None
        How a calendar year aggregates its periods; None means ``"sum"`` for levels and
        ``"mean"`` for shares.
    """

    yoy: bool = True
    base: int | str | None = None
    how: str | None = None


@dataclass(frozen=True)
class FullYearOptions:
    """The year-to-date to full-year block; ``how`` as in :class:`GrowthOptions`."""

    how: str | None = None


@dataclass(frozen=True)
class GrowthBlocks:
    """Growth summarised from the paths; every frame has ``mean``, ``lo_<L>``, ``hi_<L>``.

    Attributes
    ----------
    base : pd.Period
        The base year used.
    how : str
        ``"sum"`` or ``"mean"``.
    yoy : pd.DataFrame or None
        Percent change of each forecast period against a year earlier (None if not asked).
    annual : pd.DataFrame
        Percent change of each forecast calendar year against the year before.
    vs_base : pd.DataFrame
        Percent change of each forecast calendar year against the base year.
    index : pd.DataFrame
        Each forecast calendar year, base year = 100.
    """

    base: pd.Period
    how: str
    yoy: pd.DataFrame | None
    annual: pd.DataFrame
    vs_base: pd.DataFrame
    index: pd.DataFrame


@dataclass(frozen=True)
class Outlook:
    """A forecast frame and the blocks computed from its paths (None when not asked)."""

    forecast: pd.DataFrame
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None


def default_how(how: str | None, kind: str) -> str:
    """``how``, or the default for ``kind`` (shares average, levels add up); checked.

    Raises
    ------
    InvalidParameterError
        For a ``how`` other than ``"sum"`` or ``"mean"``.
    """
    if how is None:
        return "mean" if check_kind(kind) == "share" else "sum"
    if how not in HOWS:
        raise InvalidParameterError(f"how must be one of {HOWS}; got {how!r}.")
    return how


def check_base(y: pd.Series, base: int | str | None) -> pd.Period:
    """The base year: ``base`` if it is a completely observed calendar year of ``y``.

    Parameters
    ----------
    y : pd.Series
        The observed monthly, quarterly or annual series.
    base : int, str or None
        A calendar year, or None for the last completely observed one.

    Returns
    -------
    pd.Period
        The annual period.

    Raises
    ------
    InvalidParameterError
        If ``base`` is no year, or not a completely observed calendar year of ``y``, or
        ``y`` has no complete calendar year.
    """
    y = check_series(y)
    periods = to_periods(y.index)
    counts = pd.Series(1, index=periods.year).groupby(level=0).size()
    complete = [int(year) for year, n in counts.items() if n == periods_per_year(y.index)]
    if not complete:
        raise InvalidParameterError(f"series {y.name!r} has no completely observed calendar year to use as the base.")
    if base is None:
        return pd.Period(year=complete[-1], freq="Y")
    try:
        year = pd.Period(str(base), freq="Y")
    except (ValueError, TypeError):
        raise InvalidParameterError(f"base must be a calendar year such as 2023; got {base!r}.") from None
    if year.year not in complete:
        raise InvalidParameterError(
            f"base={base!r} is not a completely observed calendar year of series {y.name!r}; "
            f"choose one of {complete[0]}..{complete[-1]}."
        )
    return year


def outlook_horizon(index: pd.Index, horizon: int) -> int:
    """The paths' horizon of the blocks: ``horizon`` periods after ``index`` extended to the end
    of the calendar year of the last forecast period (what drivers must cover for them)."""
    return _path_horizon(future_index(index, check_horizon(horizon)), horizon)


def _path_horizon(index: pd.Index, horizon: int) -> int:
    """``horizon`` extended to the end of the calendar year of the last forecast period."""
    last = to_periods(index)[-1]
    per_year = periods_per_year(index)
    position = int({12: last.month, 4: last.quarter}.get(per_year, 1))
    return horizon + per_year - position


def outlook_history(y: pd.Series) -> pd.Series:
    """The history the growth and full-year blocks compare with: ``y`` from the period after
    its last gap (all of it when it has none).

    Raises
    ------
    InvalidParameterError
        ``y`` ends with a missing value (the paths would not continue an observed period).
    """
    gaps = np.flatnonzero(np.isnan(y.to_numpy(dtype=float)))
    if not gaps.size:
        return y
    if gaps[-1] == len(y) - 1:
        raise InvalidParameterError(
            f"growth and full_year continue the observed history, but series {y.name!r} ends with a missing value "
            f"({y.index[-1]}); ask for them once that period is observed, or without them."
        )
    return y.iloc[int(gaps[-1]) + 1 :]
