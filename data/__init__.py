"""tradecast's series store: ingest, validate and version economic series.

Public names::

    from data import Store, StorageSettings, SeriesMeta, load_series
"""

from __future__ import annotations

from data.config import StorageSettings, get_settings
from data.exceptions import (
    ConflictError,
    DataError,
    ForecastNotFoundError,
    IngestError,
    SeriesNotFoundError,
    StorageUnavailableError,
    VintageNotFoundError,
)
from data.ingest import IngestResult, load_series
from data.meta import FREQUENCIES, KINDS, ForecastRecord, SeriesMeta, StoredSeries, VintageInfo
from data.repository import Store

__all__ = [
    "FREQUENCIES",
    "KINDS",
    "ConflictError",
    "DataError",
    "ForecastNotFoundError",
    "ForecastRecord",
    "IngestError",
    "IngestResult",
    "SeriesMeta",
    "SeriesNotFoundError",
    "StorageSettings",
    "StorageUnavailableError",
    "Store",
    "StoredSeries",
    "VintageInfo",
    "VintageNotFoundError",
    "get_settings",
    "load_series",
]
