"""The store facade: one database with its series, forecast and job repositories.

Usage::

    from data import Store, SeriesMeta
    store = Store.from_url("sqlite:///var/tradecast.db")
    store.create_schema()
    store.series.save_series(SeriesMeta("cn_ru_trade_total_annual", frequency="annual"), y)
    stored = store.series.read_series("cn_ru_trade_total_annual", as_of=some_datetime)

The store holds no series or forecast methods of its own: every call goes to a repository,
``store.series`` (:class:`~data.series_repo.SeriesRepository`, series and vintages),
``store.archive`` (:class:`~data.archive.ForecastArchive`), ``store.jobs``
(:class:`~data.jobs_repo.JobsRepository`), ``store.progress``
(:class:`~data.progress_repo.ProgressRepository`, progress of every kind of job), ``store.structures``
(:class:`~data.structures_repo.StructuresRepository`, stored hierarchies and compositions) and
``store.sources`` (:class:`~data.sources_repo.SourcesRepository`, fetched vintages and refreshes), all on ``store.db``
(:class:`~data.db.Database`), e.g. ``store.series.read_series(id)``,
``store.series.list_vintages(id)``, ``store.archive.save_forecast(record)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from data.archive import ForecastArchive
from data.db import DEFAULT_BUSY_TIMEOUT_MS, Database
from data.jobs_repo import JobsRepository
from data.progress_repo import ProgressRepository
from data.series_repo import OBSERVATION_CHUNK, WRITE_ATTEMPTS, SeriesRepository
from data.sources_repo import SourcesRepository
from data.structures_repo import StructuresRepository

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
