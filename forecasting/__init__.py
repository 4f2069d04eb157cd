"""tradecast's forecasting library: models, intervals, backtests, batch forecasting.

Usable from a notebook with no server, database or settings::

    import forecasting
    fc = forecasting.forecast(y, horizon=5, levels=(80, 95))
"""

from __future__ import annotations

from forecasting.base import BaseForecaster, Forecaster, ModelTags
from forecasting.batch import backtest_many, forecast_many
from forecasting.breaks import StructuralBreak, detect_breaks
from forecasting.core import backtest, forecast
from forecasting.events import EVENT_TYPES, EventDrivers, event_regressors
from forecasting.exceptions import (
    BacktestCoverageWarning,
    ConvergenceWarning,
    FallbackWarning,
    ForecastingError,
    ForecastingWarning,
    FrequencyWarning,
    InsufficientDataError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    MemberDroppedWarning,
    ModelFitError,
    NotFittedError,
    NotFoundError,
    ReconciliationWarning,
    SparseSeriesWarning,
    StructuralBreakWarning,
    ThinEvidenceWarning,
)
from forecasting.fit import (
    DriverCoefficient,
    FittedForecast,
    ForecastPlan,
    backtest_models,
    fit_forecast,
    plan_forecast,
)
from forecasting.growth import annual_change, annual_totals, base_change, growth_index, yoy_change
from forecasting.mixed import MixedForecast, forecast_mixed
from forecasting.multivariate import VarSpec, forecast_var, impulse_responses
from forecasting.outlook import FullYearOptions, GrowthOptions, Outlook, forecast_outlook
from forecasting.paths import full_year, simulate, summarize_paths
from forecasting.registry import get_model, list_models
from forecasting.scenarios import forecast_scenarios
from forecasting.structure import forecast_hierarchy, forecast_share_values, forecast_shares
from forecasting.temporal import TemporalForecast, forecast_temporal

__all__ = [
    "EVENT_TYPES",
    "BacktestCoverageWarning",
    "BaseForecaster",
    "ConvergenceWarning",
    "EventDrivers",
    "FallbackWarning",
    "Forecaster",
    "ForecastingError",
    "ForecastingWarning",
    "FullYearOptions",
    "GrowthOptions",
    "FrequencyWarning",
    "InsufficientDataError",
    "IntervalsNotSupportedError",
    "InvalidParameterError",
    "InvalidSeriesError",
    "MemberDroppedWarning",
    "ModelFitError",
    "ModelTags",
    "NotFittedError",
    "NotFoundError",
    "Outlook",
    "ReconciliationWarning",
    "SparseSeriesWarning",
    "StructuralBreak",
    "StructuralBreakWarning",
    "TemporalForecast",
    "ThinEvidenceWarning",
    "annual_change",
    "annual_totals",
    "backtest",
    "base_change",
    "detect_breaks",
    "event_regressors",
    "forecast",
    "forecast_hierarchy",
    "forecast_temporal",
    "backtest_many",
    "backtest_models",
    "forecast_many",
    "forecast_outlook",
    "fit_forecast",
    "plan_forecast",
    "DriverCoefficient",
    "FittedForecast",
    "ForecastPlan",
    "forecast_scenarios",
    "forecast_share_values",
    "forecast_shares",
    "full_year",
    "get_model",
    "growth_index",
    "list_models",
    "simulate",
    "summarize_paths",
    "yoy_change",
    "MixedForecast",
    "forecast_mixed",
    "VarSpec",
    "forecast_var",
    "impulse_responses",
]
