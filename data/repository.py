"""The store facade: one database with its series, forecast and job repositories.

Usage::

    from data import Store, SeriesMeta
    store = Store.from_url("sqlite:///var/tradecast.db")
    store.create_schema()
    store.save_series(SeriesMeta("cn_ru_trade_total_annual", frequency="annual"), y)
    stored = store.read_series("cn_ru_trade_total_annual", as_of=some_datetime)

The work is done by the repositories, which new code may use directly:
``store.series`` (:class:`~data.series_repo.SeriesRepository`, series and vintages),
``store.archive`` (:class:`~data.archive.ForecastArchive`), ``store.jobs``
(:class:`~data.jobs_repo.JobsRepository`), ``store.progress``
(:class:`~data.progress_repo.ProgressRepository`, progress of every kind of job) and ``store.structures``
(:class:`~data.structures_repo.StructuresRepository`, stored hierarchies and compositions), all on ``store.db``
(:class:`~data.db.Database`). Four one-call series methods stay on :class:`Store`
(``save_series``, ``read_series``, ``get_meta``, ``resolve_vintage``: the door of notebooks and
of the vintage routes) and delegate to ``store.series``; everything else is called on its
repository, e.g. ``store.series.list_vintages(id)``, ``store.archive.save_forecast(record)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine

from data.archive import ForecastArchive
from data.db import DEFAULT_BUSY_TIMEOUT_MS, Database
from data.jobs_repo import JobsRepository
from data.meta import SeriesMeta, StoredSeries, VintageInfo
from data.progress_repo import ProgressRepository
from data.series_repo import OBSERVATION_CHUNK, WRITE_ATTEMPTS, SeriesRepository
from data.sources_repo import SourcesRepository
from data.structures_repo import StructuresRepository

if TYPE_CHECKING:
    pass

__all__ = ["OBSERVATION_CHUNK", "WRITE_ATTEMPTS", "Store"]


class Store:
    """Versioned storage of series and forecasts (SQLite or PostgreSQL).

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, e.g. ``sqlite:///var/tradecast.db`` or
        ``postgresql+psycopg://user@host:5432/db``.
    busy_timeout_ms : int
        SQLite only: how long a writer waits for the database lock.
    **engine_kwargs
        Passed to :func:`sqlalchemy.create_engine` (e.g. ``connect_args``).

    Attributes
    ----------
    db : Database
        The engine and its connection helpers.
    series : SeriesRepository
        Series, vintages and observations.
    archive : ForecastArchive
        Archived forecasts.
    jobs : JobsRepository
        Rows of the service's batch jobs.
    progress : ProgressRepository
        Progress of every kind of long work (batch and structure forecasts, report runs,
        source refreshes).
    structures : StructuresRepository
        Stored hierarchies and compositions over stored series.
    sources : SourcesRepository
        Vintages fetched from official sources (with their origin) and scheduled refreshes.

    Notes
    -----
    A ``Store`` owns one engine (a connection pool) and is safe to share between threads.
    Call :meth:`dispose` when done with it. It reads no settings and no environment: the
    caller passes the URL and the timeout.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **engine_kwargs: Any) -> None:
        self.url = url
        self.db = Database.from_url(url, busy_timeout_ms=busy_timeout_ms, **engine_kwargs)
        self.series = SeriesRepository(self.db)
        self.archive = ForecastArchive(self.db)
        self.jobs = JobsRepository(self.db)
        self.progress = ProgressRepository(self.db)
        self.structures = StructuresRepository(self.db)
        self.sources = SourcesRepository(self.db, self.series)

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **engine_kwargs: Any) -> Store:
        """Open a store on ``url`` (the schema is not created; call :meth:`create_schema`)."""
        return cls(url, busy_timeout_ms=busy_timeout_ms, **engine_kwargs)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (shared by every repository)."""
        return self.db.engine

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def create_schema(self) -> None:
        """Run the Alembic migrations up to head: creates or upgrades every table (idempotent)."""
        self.db.upgrade()

    def check_connection(self) -> None:
        """Raise :class:`~data.exceptions.StorageUnavailableError` if the database does not answer."""
        self.db.check_connection()

    # -- series and vintages: see data.series_repo.SeriesRepository ----------------------

    def save_series(
        self,
        meta: SeriesMeta,
        observations: pd.DataFrame | pd.Series,
        *,
        release: str | None = None,
        skip_unchanged: bool = False,
        published_at: datetime | None = None,
    ) -> VintageInfo:
        """Store a new vintage of one series; see :meth:`SeriesRepository.save_series`."""
        return self.series.save_series(
            meta, observations, release=release, skip_unchanged=skip_unchanged, published_at=published_at
        )

    def read_series(
        self, series_id: str, *, as_of: datetime | None = None, vintage_id: int | None = None
    ) -> StoredSeries:
        """The series at ``as_of`` or at one vintage; see :meth:`SeriesRepository.read_series`."""
        return self.series.read_series(series_id, as_of=as_of, vintage_id=vintage_id)

    def get_meta(self, series_id: str) -> SeriesMeta:
        """Metadata of one series; see :meth:`SeriesRepository.get_meta`."""
        return self.series.get_meta(series_id)

    def resolve_vintage(self, series_id: str, vintage: int) -> int:
        """A series' vintage number (else a vintage id of it) as an id; see :meth:`SeriesRepository.resolve_vintage`."""
        return self.series.resolve_vintage(series_id, vintage)
