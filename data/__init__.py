"""tradecast's series store: ingest, validate and version economic series.

Public names::

    from data import Store, SeriesMeta, load_series
"""

from __future__ import annotations

from data.db import DEFAULT_DATABASE_URL
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
    "DEFAULT_DATABASE_URL",
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
    "StorageUnavailableError",
    "Store",
    "StoredSeries",
    "VintageInfo",
    "VintageNotFoundError",
    "load_series",
]
