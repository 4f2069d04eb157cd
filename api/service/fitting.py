"""The functions that run on the executor's workers: fit and forecast, backtest, warm-up.

They take and return picklable values only; the executor records their warnings and
their errors (:class:`forecasting.executor.TaskResult`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

import forecasting
from api.service.limits import with_details
from forecasting.base import BaseForecaster
from forecasting.breaks import break_warnings
from forecasting.exceptions import InvalidParameterError
from forecasting.outlook import FullYearOptions, GrowthBlocks, GrowthOptions, forecast_outlook, outlook_horizon
from forecasting.registry import get_model
from forecasting.transforms import Transformed

if TYPE_CHECKING:
    from api.service.drivers import DrivenFit

__all__ = ["FitOutcome", "fit_forecast", "run_backtest", "warm_up"]


@dataclass(frozen=True)
class FitOutcome:
    """What a forecasting worker sends back: the frame, how its intervals were made, the blocks."""

    frame: pd.DataFrame
    interval_method: str
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None
    scenarios: dict[str, pd.DataFrame] | None = None


def _estimator(model: str, transform: str, kind: str) -> str | BaseForecaster:
    if transform == "none":
        return model
    if kind == "share":
        raise with_details(
            InvalidParameterError(
                "transform='log' applies to level series; share series are already modelled on the "
                "logit scale. Drop 'transform' or use kind='level'."
            ),
            {"field": "transform", "value": transform},
        )
    return Transformed(model=get_model(model), transform="log")


def fit_forecast(
    y: pd.Series,
    horizon: int,
    levels: tuple[int, ...],
    model: str,
    kind: str,
    transform: str,
    growth: GrowthOptions | None = None,
    full_year: FullYearOptions | None = None,
    driven: DrivenFit | None = None,
) -> FitOutcome:
    """Fit and forecast one series; growth and full-year blocks from its paths, here next to the fit.

    ``driven`` (drivers, events, gaps, break check, scenarios) fits through
    :func:`forecasting.forecast` and :func:`forecasting.forecast_scenarios` instead.
    """
    estimator = _estimator(model, transform, kind)
    if driven is not None and (growth is not None or full_year is not None):
        return _fit_driven_outlook(y, horizon, levels, estimator, kind, driven, growth, full_year)
    if driven is not None:
        return _fit_driven(y, horizon, levels, estimator, kind, driven)
    out = forecast_outlook(y, horizon, levels, estimator, kind, growth=growth, full_year=full_year)
    frame = out.forecast
    return FitOutcome(frame, str(frame.attrs.get("interval_method", "")), out.growth, out.full_year)


#: The key of the drivers' own future values among the scenarios fitted together.
_BASELINE = "\x00baseline"


def _fit_driven(
    y: pd.Series, horizon: int, levels: tuple[int, ...], estimator: str | BaseForecaster, kind: str, driven: DrivenFit
) -> FitOutcome:
    """Forecast with drivers; scenarios are fitted with the baseline in one fit of the model."""
    X, X_future = driven.split(y, horizon)
    paths = driven.scenario_futures(X_future)
    if not paths:
        frame = forecasting.forecast(
            y,
            horizon,
            levels,
            estimator,
            kind,
            X=X,
            X_future=X_future,
            missing=driven.missing,
            events=driven.events,
            check_breaks=driven.check_breaks,
        )
        return FitOutcome(frame, str(frame.attrs.get("interval_method", "")))
    assert X is not None and X_future is not None  # scenario_futures refuses scenarios without drivers
    if driven.check_breaks:
        for warning in break_warnings(y, driven.events):
            warnings.warn(warning, stacklevel=2)
    frames = forecasting.forecast_scenarios(
        y,
        horizon,
        X,
        {_BASELINE: X_future, **paths},
        levels,
        estimator,
        kind,
        events=driven.events,
        missing=driven.missing,
        driver_uncertainty=driven.driver_uncertainty,
    )
    frame = frames.pop(_BASELINE)
    return FitOutcome(frame, str(frame.attrs.get("interval_method", "")), scenarios=frames)


def _fit_driven_outlook(
    y: pd.Series,
    horizon: int,
    levels: tuple[int, ...],
    estimator: str | BaseForecaster,
    kind: str,
    driven: DrivenFit,
    growth: GrowthOptions | None,
    full_year: FullYearOptions | None,
) -> FitOutcome:
    """Forecast with drivers, events or gaps, and the growth and full-year blocks from the same fit.

    The drivers must run to the end of the last forecast year (the paths' horizon).
    """
    X, X_future = driven.split(y, outlook_horizon(y.index, horizon))
    if driven.check_breaks:
        for warning in break_warnings(y, driven.events):
            warnings.warn(warning, stacklevel=2)
    out = forecast_outlook(
        y,
        horizon,
        levels,
        estimator,
        kind,
        growth=growth,
        full_year=full_year,
        X=X,
        X_future=X_future,
        events=driven.events,
        missing=driven.missing,
    )
    frame = out.forecast
    return FitOutcome(frame, str(frame.attrs.get("interval_method", "")), out.growth, out.full_year)


def run_backtest(
    y: pd.Series,
    horizon: int,
    windows: int,
    models: tuple[str, ...],
    levels: tuple[int, ...],
    step: int,
    kind: str,
    transform: str,
    drivers: pd.DataFrame | None = None,
    events: list[dict[str, object]] | None = None,
) -> pd.DataFrame:
    """Run :func:`forecasting.backtest`, labelling transformed models by their registry name.

    ``drivers`` (a table by period) are taken on ``y``'s periods: known at each origin.
    """
    estimators = [_estimator(m, transform, kind) for m in models]
    X = None if drivers is None else drivers.reindex(y.index)
    frame = forecasting.backtest(
        y, horizon, windows, models=estimators, levels=levels, step=step, kind=kind, X=X, events=events
    )
    labels = {type(e).__name__: m for e, m in zip(estimators, models, strict=True) if not isinstance(e, str)}
    if labels:
        frame["model"] = frame["model"].map(lambda v: labels.get(v, v))
    return frame


def warm_up() -> int:
    """Run once in each fresh worker so that the first real fit does not pay the import time."""
    return len(forecasting.list_models())
