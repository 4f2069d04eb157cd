"""tradecast's forecasting library: models, intervals, backtests, batch forecasting.

Usable from a notebook with no server, database or settings::

    import forecasting
    fc = forecasting.forecast(y, horizon=5, levels=(80, 95))
"""

from __future__ import annotations

from forecasting.base import BaseForecaster, Forecaster, ModelTags
from forecasting.batch import forecast_many
from forecasting.core import backtest, forecast
from forecasting.exceptions import (
    ConvergenceWarning,
    FallbackWarning,
    ForecastingError,
    ForecastingWarning,
    FrequencyWarning,
    InsufficientDataError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    ModelFitError,
    NotFittedError,
    NotFoundError,
)
from forecasting.registry import get_model, list_models

__all__ = [
    "BaseForecaster",
    "ConvergenceWarning",
    "FallbackWarning",
    "Forecaster",
    "ForecastingError",
    "ForecastingWarning",
    "FrequencyWarning",
    "InsufficientDataError",
    "IntervalsNotSupportedError",
    "InvalidParameterError",
    "InvalidSeriesError",
    "ModelFitError",
    "ModelTags",
    "NotFittedError",
    "NotFoundError",
    "backtest",
    "forecast",
    "forecast_many",
    "get_model",
    "list_models",
]
