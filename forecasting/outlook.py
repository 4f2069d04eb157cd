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
from typing import Any

import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.blocks import (
    FullYearOptions,
    GrowthBlocks,
    GrowthOptions,
    Outlook,
    check_base,
    default_how,
    outlook_history,
    outlook_horizon,
)
from forecasting.core import DEFAULT_LEVELS
from forecasting.fit import fit_forecast

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
