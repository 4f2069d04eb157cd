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
    build_model,
    check_missing,
    check_takes_missing,
    describe_output,
    fit_model,
    resolve_auto,
    with_events,
)
from forecasting.exceptions import FutureDriversError, InvalidParameterError
from forecasting.frames import future_index
from forecasting.growth import annual_change, base_change, growth_index, yoy_change
from forecasting.paths import HOWS, full_year_from_paths, full_year_target, periods_per_year, to_periods
from forecasting.sampling import check_n_paths
from forecasting.validation import (
    check_horizon,
    check_kind,
    check_levels,
    check_nonnegative,
    check_series,
    check_values_for_kind,
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
    levels = check_levels(levels)
    driven = X is not None or X_future is not None or events is not None or missing != "error"
    y = check_missing(check_series(y, allow_missing=True), missing) if driven else check_series(y)
    # Growth compares with observed calendar years: with gaps, those of the latest unbroken stretch.
    observed = outlook_history(y) if (growth is not None or full_year is not None) else y
    growth_how, base = "", None
    if growth is not None:
        growth_how, base = default_how(growth.how, kind), check_base(observed, growth.base)
    if full_year is not None:
        full_year_target(observed, default_how(full_year.how, kind))
    blocks_asked = growth is not None or full_year is not None
    path_horizon = outlook_horizon(y.index, horizon) if blocks_asked else horizon
    # One fit serves the frame and the paths (they come from the same predictive distribution).
    if driven:
        fitted, X_path = _fit_driven(y, horizon, path_horizon, model, kind, X, X_future, events, missing)
    else:
        fitted, X_path = fit_model(y, model, kind), None
    X_frame = None if X_path is None else X_path.iloc[:horizon]
    frame = describe_output(fitted.predict(horizon, levels=levels, X_future=X_frame), fitted, model, y)
    if not blocks_asked:
        return Outlook(frame)
    paths = fitted.sample_paths(path_horizon, check_n_paths(n_paths), random_state=seed, X_future=X_path)
    y = observed
    blocks = None
    if growth is not None and base is not None:
        blocks = GrowthBlocks(
            base=base,
            how=growth_how,
            yoy=yoy_change(y, paths.iloc[:horizon], levels) if growth.yoy else None,
            annual=annual_change(y, paths, levels, how=growth_how),
            vs_base=base_change(y, paths, levels, base=base, how=growth_how),
            index=growth_index(y, paths, levels, base=base, how=growth_how),
        )
    year = None
    if full_year is not None:
        year = full_year_from_paths(y, paths, levels, default_how(full_year.how, kind))
        year.attrs["how"] = default_how(full_year.how, kind)
    return Outlook(frame, blocks, year)


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


def _fit_driven(
    y: pd.Series,
    horizon: int,
    path_horizon: int,
    model: str | BaseForecaster,
    kind: str,
    X: pd.DataFrame | None,
    X_future: pd.DataFrame | None,
    events: Sequence[Mapping[str, Any]] | None,
    missing: str,
) -> tuple[BaseForecaster, pd.DataFrame | None]:
    """The model fitted with drivers, events or gaps as :func:`~forecasting.forecast` fits it,
    and the drivers over the paths' horizon (None without drivers)."""
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, None)
    if X_future is not None and path_horizon > horizon:
        X_future = X_future.to_frame() if isinstance(X_future, pd.Series) else X_future
        if len(X_future) < path_horizon:
            end = future_index(y.index, path_horizon)[-1]
            raise FutureDriversError(
                f"growth and full_year need the drivers to the end of the last forecast year ({end}); X_future "
                f"has {len(X_future)} row(s), {path_horizon} needed. Give the drivers up to {end}."
            )
    if X_future is not None:
        X_future = X_future.iloc[:path_horizon]
    X, X_path = with_events(y, path_horizon, X, X_future, events)
    template = build_model(resolve_auto(model, X, missing), kind, nonnegative=censor)
    if missing == "model":
        check_takes_missing(template, model)
    return template.fit(y, X), X_path
