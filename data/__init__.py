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
    InvalidStructureError,
    NotInStructureError,
    SeriesNotFoundError,
    StorageUnavailableError,
    StructureExistsError,
    StructureNotFoundError,
    UnknownStructureIdError,
    UploadLimitError,
    VintageNotFoundError,
)
from data.ingest import IngestResult, UploadLimits, load_series
from data.meta import FREQUENCIES, KINDS, ForecastRecord, SeriesMeta, StoredSeries, VintageInfo
from data.repository import Store
from data.structures_repo import StructureDefinition

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
    "InvalidStructureError",
    "NotInStructureError",
    "SeriesMeta",
    "SeriesNotFoundError",
    "StorageUnavailableError",
    "Store",
    "StoredSeries",
    "StructureDefinition",
    "StructureExistsError",
    "StructureNotFoundError",
    "UnknownStructureIdError",
    "UploadLimitError",
    "UploadLimits",
    "VintageInfo",
    "VintageNotFoundError",
    "load_series",
]
