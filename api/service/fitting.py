"""The functions that run on the executor's workers: fit and forecast, backtest, warm-up.

They take and return picklable values only; the executor records their warnings and
their errors (:class:`forecasting.executor.TaskResult`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import forecasting
from api.service.limits import with_details
from forecasting.base import BaseForecaster
from forecasting.exceptions import InvalidParameterError
from forecasting.outlook import FullYearOptions, GrowthBlocks, GrowthOptions, forecast_outlook
from forecasting.registry import get_model
from forecasting.transforms import Transformed

__all__ = ["FitOutcome", "fit_forecast", "run_backtest", "warm_up"]


@dataclass(frozen=True)
class FitOutcome:
    """What a forecasting worker sends back: the frame, how its intervals were made, the blocks."""

    frame: pd.DataFrame
    interval_method: str
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None


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
) -> FitOutcome:
    """Fit and forecast one series; growth and full-year blocks from its paths, here next to the fit."""
    estimator = _estimator(model, transform, kind)
    out = forecast_outlook(y, horizon, levels, estimator, kind, growth=growth, full_year=full_year)
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
) -> pd.DataFrame:
    """Run :func:`forecasting.backtest`, labelling transformed models by their registry name."""
    estimators = [_estimator(m, transform, kind) for m in models]
    frame = forecasting.backtest(y, horizon, windows, models=estimators, levels=levels, step=step, kind=kind)
    labels = {type(e).__name__: m for e, m in zip(estimators, models, strict=True) if not isinstance(e, str)}
    if labels:
        frame["model"] = frame["model"].map(lambda v: labels.get(v, v))
    return frame


def warm_up() -> int:
    """Run once in each fresh worker so that the first real fit does not pay the import time."""
    return len(forecasting.list_models())
