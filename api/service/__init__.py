"""The service layer: forecast, batch and backtest use cases on plain library types.

No FastAPI and no pydantic here: requests come in as the dataclasses of
:mod:`api.service.types` (built from schemas by :mod:`api.convert`) and results go back as
dataclasses holding series and frames. The routes, the job runner and the command line
translate.
"""

from __future__ import annotations

from api.service.fitting import FitOutcome, fit_plan
from api.service.forecasts import ForecastService
from api.service.limits import Limits
from api.service.sources import InlineParser
from api.service.types import (
    BacktestRequest,
    BacktestResult,
    BatchItemResult,
    BatchRequest,
    ForecastRequest,
    ForecastResult,
    InlineSeries,
    Prepared,
    SeriesSource,
)

__all__ = [
    "BacktestRequest",
    "BacktestResult",
    "BatchItemResult",
    "BatchRequest",
    "FitOutcome",
    "ForecastRequest",
    "ForecastResult",
    "ForecastService",
    "InlineParser",
    "InlineSeries",
    "Limits",
    "Prepared",
    "SeriesSource",
    "fit_plan",
]
