"""A forecast with its growth and full-year blocks, all from one set of sample paths.

What the REST service, the command line and the reports ask for in one call: the forecast
frame of :func:`~forecasting.forecast`, and, when asked, growth (year-on-year, against the
year before, against a base year, the index) and the year-to-date to full-year total, each
summarised from the paths of :func:`~forecasting.simulate` (never from the bounds).

The paths run to the end of the calendar year of the last forecast period (a horizon of 6
months from June covers the whole year), so the annual blocks describe every calendar year
the forecast touches. They are drawn with a fixed seed by default, so the same input gives
the same blocks (what a cache and an archive need).

Examples
--------
>>> out = forecast_outlook(y, 12, growth=GrowthOptions(base=2023), full_year=FullYearOptions())  # doctest: +SKIP
>>> out.growth.vs_base        # calendar-year totals against 2023, in percent  # doctest: +SKIP
>>> out.full_year             # one row: observed, periods_observed, mean, lo_<L>, hi_<L>  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import (
    DEFAULT_LEVELS,
)
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
    "forecast_outlook",
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


def forecast_outlook(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    *,
    growth: GrowthOptions | None = None,
    full_year: FullYearOptions | None = None,
    n_paths: int = 2000,
    seed: int | None = 0,
    X: pd.DataFrame | None = None,
    X_future: pd.DataFrame | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
) -> Outlook:
    """Forecast ``y`` and, when asked, its growth and full-year blocks from sample paths.

    Parameters
    ----------
    y : pd.Series
        Float series with a regular ``PeriodIndex`` (or ``DatetimeIndex``) with ``freq``.
    horizon : int
        Periods ahead of the forecast frame (>= 1).
    levels : sequence of int
        Interval levels in percent, for the frame and for every block.
    model : str or BaseForecaster
        A registered name or a model instance. Default ``"auto"``.
    kind : {"level", "share"}
        As for :func:`~forecasting.forecast`.
    growth : GrowthOptions or None
        The growth blocks to compute (None: none).
    full_year : FullYearOptions or None
        The full-year block (None: none); monthly or quarterly series only.
    n_paths : int
        Number of sample paths (default 2,000).
    seed : int or None
        Seed of the paths (default 0: the same input gives the same blocks).
    X, events, missing
        Drivers on ``y``'s index, known events and the missing-value policy, as for
        :func:`~forecasting.forecast`: the frame and the paths then come from the same
        fitted model with drivers (the paths by ``sample_paths(..., X_future=...)``).
    X_future : pd.DataFrame or None
        The drivers over the horizon. The growth and full-year blocks need paths to the
        end of the calendar year of the last forecast period, so with ``growth`` or
        ``full_year`` ``X_future`` must run to that period (rows after what is needed
        are ignored); events are extended by themselves.

    Returns
    -------
    Outlook
        ``forecast`` is exactly :func:`~forecasting.forecast`'s frame; ``growth`` and
        ``full_year`` as described in :class:`GrowthBlocks` and
        :func:`~forecasting.full_year` (``attrs["how"]`` says sum or mean).

    Raises
    ------
    InvalidParameterError
        For bad options (an unknown ``how``, a base year that is not completely observed),
        checked before any fit.
    InvalidSeriesError
        For a full year of annual data, or growth of a series too short to compare.
    InsufficientDataError, NotFoundError, ModelFitError
        From the model.
    """
    from forecasting.fit import fit_forecast  # fit builds on this module's options and checks

    drivers = None
    if X is not None or X_future is not None:
        parts = [p.to_frame() if isinstance(p, pd.Series) else p for p in (X, X_future) if p is not None]
        drivers = pd.concat(parts) if len(parts) > 1 else parts[0]
        drivers = drivers[~drivers.index.duplicated(keep="first")]
    fitted = fit_forecast(
        y,
        horizon,
        levels,
        model,
        kind,
        drivers=drivers,
        events=events,
        missing=missing,
        growth=growth,
        full_year=full_year,
        n_paths=n_paths,
        seed=seed,
    )
    return fitted.outlook


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
