"""What the use cases take and return: plain dataclasses, series and frames (no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import pandas as pd

from api.cache import data_hash
from api.service.drivers import DriverInputs, ScenarioInputs, StoredDrivers
from data import VintageInfo
from forecasting.executor import WarningNote
from forecasting.fit import DriverCoefficient
from forecasting.outlook import FullYearOptions, GrowthBlocks, GrowthOptions

__all__ = [
    "BacktestRequest",
    "BacktestResult",
    "BatchItemResult",
    "BatchRequest",
    "ForecastRequest",
    "ForecastResult",
    "InlineSeries",
    "Prepared",
    "SeriesSource",
]


@dataclass(frozen=True)
class InlineSeries:
    """Observations posted with a request, not parsed yet (parsing is left for a cache miss)."""

    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    frequency: str

    @cached_property
    def digest(self) -> str:
        """sha256 of the data: its identity in the cache and in the archive."""
        return data_hash([self.frequency, [[ds, y] for ds, y in zip(self.labels, self.values, strict=True)]])


@dataclass(frozen=True)
class SeriesSource:
    """A stored series (``series_id``, optional ``as_of``) or inline data, and how to read it."""

    series_id: str | None = None
    as_of: datetime | None = None
    inline: InlineSeries | None = None
    kind: str | None = None
    missing: str = "error"
    label: str | None = None
    drivers: DriverInputs | None = None

    @property
    def frequency(self) -> str | None:
        """The frequency of inline data (a stored series knows its own)."""
        return self.inline.frequency if self.inline is not None else None


@dataclass(frozen=True)
class ForecastRequest:
    """One forecast; ``model=None`` means the service's default model."""

    source: SeriesSource
    horizon: int
    levels: tuple[int, ...] = (80, 95)
    model: str | None = None
    transform: str = "none"
    growth: GrowthOptions | None = None
    full_year: FullYearOptions | None = None
    check_breaks: bool = False
    scenarios: ScenarioInputs | None = None


@dataclass(frozen=True)
class BatchRequest:
    """Many series forecast with the same settings."""

    sources: tuple[SeriesSource, ...]
    horizon: int
    levels: tuple[int, ...] = (80, 95)
    model: str | None = None
    transform: str = "none"

    def item(self, source: SeriesSource) -> ForecastRequest:
        """The forecast request of one series of the batch."""
        return ForecastRequest(source, self.horizon, self.levels, self.model, self.transform)


@dataclass(frozen=True)
class BacktestRequest:
    """A rolling-origin evaluation; ``models=None`` means the service's default model."""

    source: SeriesSource
    horizon: int
    windows: int = 3
    step: int = 1
    models: tuple[str, ...] | None = None
    levels: tuple[int, ...] = (80, 95)
    transform: str = "none"


@dataclass(frozen=True)
class Prepared:
    """A validated input series and where it came from."""

    y: pd.Series
    frequency: str
    kind: str
    series_id: str | None = None
    vintage: VintageInfo | None = None
    data_hash: str | None = None
    notes: tuple[WarningNote, ...] = ()
    drivers: pd.DataFrame | None = field(default=None, compare=False)
    #: The stored drivers as read, with their vintages (part of the cache key).
    stored_drivers: StoredDrivers | None = field(default=None, compare=False)

    @property
    def driver_vintages(self) -> tuple[tuple[str, str, int], ...]:
        """(driver name, series id, vintage id) of each stored driver read."""
        return self.stored_drivers.vintages if self.stored_drivers is not None else ()


# eq=False: results hold frames (no meaningful ==) and are told apart by identity, so the
# HTTP layer can memoise each one's encoded body while the cache keeps it.
@dataclass(frozen=True, eq=False)
class ForecastResult:
    """An archived forecast: the frame and what it was made from."""

    forecast_id: str
    series_id: str | None
    model: str
    frequency: str
    kind: str
    transform: str
    horizon: int
    levels: tuple[int, ...]
    vintage: VintageInfo | None
    data_hash: str | None
    interval_method: str
    frame: pd.DataFrame
    warnings: tuple[WarningNote, ...]
    created_at: datetime
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None
    scenarios: dict[str, pd.DataFrame] | None = None
    coefficients: tuple[DriverCoefficient, ...] = ()


@dataclass(frozen=True)
class BatchItemResult:
    """One series of a batch: its forecast, or the error that stopped it."""

    index: int
    label: str | None
    result: ForecastResult | None = None
    error: Exception | None = None


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """A backtest's rows (the long backtest frame) and its scores per window and per model."""

    series_id: str | None
    frequency: str
    horizon: int
    windows: int
    step: int
    levels: tuple[int, ...]
    frame: pd.DataFrame
    window_scores: pd.DataFrame
    model_scores: pd.DataFrame
    warnings: tuple[WarningNote, ...]
    #: Metric → the best model by it (when several models ran), see :func:`forecasting.core.best_models`.
    best: dict[str, str] = field(default_factory=dict)
