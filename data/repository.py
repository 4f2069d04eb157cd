"""The series store: versioned series, their vintages, and the forecast archive.

Usage::

    from data import Store, SeriesMeta
    store = Store.from_url("sqlite:///var/tradecast.db")
    store.create_schema()
    store.save_series(SeriesMeta("cn_ru_trade_total_annual", frequency="annual"), y)
    stored = store.read_series("cn_ru_trade_total_annual", as_of=some_datetime)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from data.config import StorageSettings
from data.meta import ForecastRecord, SeriesMeta, StoredSeries, VintageInfo

if TYPE_CHECKING:
    from data.ingest import IngestResult

__all__ = ["Store"]

logger = logging.getLogger(__name__)


class Store:
    """Versioned storage of series and forecasts (SQLite or PostgreSQL).

    Parameters
    ----------
    url : str
        SQLAlchemy database URL.
    settings : StorageSettings, optional
        Other storage settings (busy timeout...).
    """

    def __init__(self, url: str, settings: StorageSettings | None = None) -> None:
        raise NotImplementedError("Store is being implemented (issue 4)")

    @classmethod
    def from_url(cls, url: str, **engine_kwargs: object) -> Store:
        """Open a store on ``url`` (schema not created; call :meth:`create_schema`)."""
        raise NotImplementedError

    @classmethod
    def from_settings(cls, settings: StorageSettings | None = None) -> Store:
        """Open the store configured by ``settings`` (default: from the environment)."""
        raise NotImplementedError

    def create_schema(self) -> None:
        """Run the Alembic migrations up to head (idempotent)."""
        raise NotImplementedError

    def check_connection(self) -> None:
        """Raise :class:`~data.exceptions.StorageUnavailableError` if the database does not answer."""
        raise NotImplementedError

    def save_series(
        self, meta: SeriesMeta, observations: pd.DataFrame | pd.Series, *, release: str | None = None
    ) -> VintageInfo:
        """Store a new vintage of one series (metadata upserted) in one transaction."""
        raise NotImplementedError

    def save_ingested(self, result: IngestResult, *, release: str | None = None) -> list[VintageInfo]:
        """Store one new vintage of every series of an upload, all in one transaction."""
        raise NotImplementedError

    def read_series(
        self, series_id: str, *, as_of: datetime | None = None, vintage_id: int | None = None
    ) -> StoredSeries:
        """The series as known at ``as_of`` (default: latest), or at vintage ``vintage_id``."""
        raise NotImplementedError

    def list_series(
        self, *, tags: dict[str, str] | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[SeriesMeta], int]:
        """One page of series metadata (ordered by id) matching all ``tags``, and the total count."""
        raise NotImplementedError

    def get_meta(self, series_id: str) -> SeriesMeta:
        """Metadata of one series."""
        raise NotImplementedError

    def has_series(self, series_id: str) -> bool:
        """Whether a series is stored under ``series_id``."""
        raise NotImplementedError

    def list_vintages(self, series_id: str) -> list[VintageInfo]:
        """Every vintage of a series, oldest first."""
        raise NotImplementedError

    def revisions(self, series_id: str, from_vintage: int, to_vintage: int) -> pd.DataFrame:
        """Periods whose value differs between two vintages (ids): columns ``ds, old, new``."""
        raise NotImplementedError

    def delete_series(self, series_id: str) -> None:
        """Delete a series with all its vintages (archived forecasts are kept)."""
        raise NotImplementedError

    def save_forecast(self, record: ForecastRecord) -> str:
        """Archive a forecast; returns its id."""
        raise NotImplementedError

    def get_forecast(self, forecast_id: str) -> ForecastRecord:
        """One archived forecast."""
        raise NotImplementedError

    def list_forecasts(
        self, series_id: str | None = None, *, model: str | None = None, since: datetime | None = None
    ) -> list[ForecastRecord]:
        """Archived forecasts, newest first, optionally filtered."""
        raise NotImplementedError

    def dispose(self) -> None:
        """Close every pooled connection."""
        raise NotImplementedError
