"""The functions that run on the executor's workers: fit and forecast, backtest, warm-up.

They take and return picklable values only; the executor records their warnings and
their errors (:class:`forecasting.executor.TaskResult`).
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
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

__all__ = ["FitOutcome", "fit_forecast", "import_models", "run_backtest", "warm_up"]


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
    missing: str = "error",
) -> pd.DataFrame:
    """Run :func:`forecasting.backtest`, labelling transformed models by their registry name.

    ``drivers`` (a table by period) are taken on ``y``'s periods: known at each origin.
    ``missing="model"`` backtests a series with gaps with the models that take them.
    """
    estimators = [_estimator(m, transform, kind) for m in models]
    X = None if drivers is None else drivers.reindex(y.index)
    frame = forecasting.backtest(
        y,
        horizon,
        windows,
        models=estimators,
        levels=levels,
        step=step,
        kind=kind,
        X=X,
        events=events,
        missing=missing,
    )
    labels = {type(e).__name__: m for e, m in zip(estimators, models, strict=True) if not isinstance(e, str)}
    if labels:
        frame["model"] = frame["model"].map(lambda v: labels.get(v, v))
    return frame


def import_models() -> int:
    """Import every registered model (the light warm-up); return this process's id."""
    forecasting.list_models()
    return os.getpid()


#: The process that :func:`warm_up` has warmed (a forked child must warm itself again).
_warmed_pid: int | None = None
_warm_lock = threading.Lock()


def _warm_series(freq: str, n: int, season: int) -> pd.Series:
    # A trend with a seasonal wave and a deterministic wiggle: small, yet enough for every
    # candidate of auto (seasonal ones included) to be fitted and compiled.
    t = np.arange(n, dtype=float)
    values = 100.0 + 0.8 * t + 6.0 * np.sin(2 * np.pi * t / season) + 2.0 * np.cos(1.7 * t)
    return pd.Series(values, index=pd.period_range("2010-01", periods=n, freq=freq), name="warm_up")


def warm_up() -> int:
    """Import the models and run small fits of ``auto`` once in this process; return its pid.

    A fresh worker's first fit otherwise pays for the imports and for numba compiling the
    statsforecast kernels (seconds, against a fraction of a second warm). Monthly, quarterly
    and annual series take different candidates, so each is fitted once, with intervals and
    the growth and full-year blocks a forecast request may ask for. Cheap once warmed.
    """
    global _warmed_pid
    with _warm_lock:
        if _warmed_pid != os.getpid():
            forecasting.list_models()
            with warnings.catch_warnings():
                # Whatever the tiny series make the models say is not the caller's concern.
                warnings.simplefilter("ignore")
                for freq, n, season in (("M", 48, 12), ("Q", 24, 4), ("Y", 16, 4)):
                    monthly = freq == "M"
                    growth, full_year = (GrowthOptions(), FullYearOptions()) if monthly else (None, None)
                    y = _warm_series(freq, n, season)
                    forecast_outlook(y, 6, (80, 95), "auto", "level", growth=growth, full_year=full_year)
            _warmed_pid = os.getpid()
    return os.getpid()
