"""SQLAlchemy 2.0 declarative tables: every table of the product, on one :data:`metadata`.

One Alembic history (``data/migrations``) creates all of them:

- ``series`` 1─n ``vintages`` 1─n ``observations`` (the last link enforced by the store,
  not by a foreign key; see :class:`ObservationsTable`); ``series_tags`` holds one row per
  tag so tag filters run in SQL;
- ``forecasts``: the archive of forecasts made (kept when a series is deleted, since it is
  history);
- ``report_definitions`` and ``report_runs``: the report scheduler (revision
  ``0002_reports``);
- ``api_jobs``: durable jobs of the REST service (batch forecasts, structure forecasts,
  source refreshes; revision ``0003_jobs``; the name predates the single history and is
  kept so existing rows stay);
- revision ``0004_vintage_identity`` makes vintage ids never repeat on SQLite
  (``AUTOINCREMENT``), as PostgreSQL's sequence already guaranteed;
- ``structures``: stored hierarchies and compositions over stored series (revision
  ``0005_structures``).
- revision ``0006_run_lease`` adds ``report_runs.lease_until``, the lease a running
  report run renews (an expired one marks an interrupted run, which is re-run).
- revision ``0007_published_at`` adds ``vintages.published_at``, the date the figures were
  published (``as_of`` reads use it, else ``created_at``).
- ``report_deliveries``: the delivery log of report runs, one row per channel and try
  (revision ``0009_delivery_log``).
- revision ``0008_source_refresh`` adds ``source_fetches`` (the source, query and
  retrieval time of each vintage a connector wrote) and ``source_refreshes`` (source
  queries refreshed on a cron schedule).
- ``job_progress``: the progress of every kind of long work (batch forecasts, structure
  forecasts, report runs, source refreshes), one row per job (revision ``0010_job_progress``).
- revision ``0011_job_lease`` replaces ``api_jobs.heartbeat_at`` by ``lease_until``: every
  durable job (a job row or a report run) stores when its worker's claim ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "ForecastsTable",
    "JobProgressTable",
    "JobsTable",
    "ObservationsTable",
    "ReportDefinitionsTable",
    "ReportDeliveriesTable",
    "ReportRunsTable",
    "SeriesTable",
    "SeriesTagsTable",
    "SourceFetchesTable",
    "SourceRefreshesTable",
    "UTCDateTime",
    "VintagesTable",
    "metadata",
]

# Named constraints so Alembic migrations are deterministic on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones: values are stored as naive UTC (fixed-width text with
    microseconds, so string order is time order) and come back tagged UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base bound to :data:`metadata`."""

    metadata = metadata


class SeriesTable(Base):
    """One row per series: its metadata."""

    __tablename__ = "series"

    series_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    frequency: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16))
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeriesTagsTable(Base):
    """One row per (series, tag key): lets ``list_series(tags=...)`` filter in SQL."""

    __tablename__ = "series_tags"

    series_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("series.series_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))

    __table_args__ = (Index(None, "key", "value"),)


class VintagesTable(Base):
    """One row per upload of a series; append-only."""

    __tablename__ = "vintages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[str] = mapped_column(String(100), ForeignKey("series.series_id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    release: Mapped[str | None] = mapped_column(String(200), nullable=True)
    n_obs: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    # When the figures were published (migration 0007_published_at); NULL: unknown, and
    # as_of reads use created_at instead.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # The unique (series_id, number) pair is what makes concurrent writers safe: two
    # writers that computed the same next number cannot both commit. AUTOINCREMENT on
    # SQLite (migration 0004) keeps a deleted vintage's id from being handed out again,
    # which would make caches and archived forecasts take a new upload for the old one.
    __table_args__ = (
        UniqueConstraint("series_id", "number"),
        Index(None, "series_id", "created_at"),
        {"sqlite_autoincrement": True},
    )


class ObservationsTable(Base):
    """One row per vintage × period. ``ds`` is the pandas period string (``2023-01``,
    ``2023Q1``, ``2023``), which sorts correctly within one frequency. ``y`` NULL is a gap."""

    __tablename__ = "observations"

    # The primary key (vintage_id, ds) is also the index a read at a past vintage uses.
    # No foreign key to vintages: on PostgreSQL its per-row check made a 1.2M-row COPY 7x
    # slower. Rows are only written in the transaction that creates their vintage, and
    # store.series.delete_series deletes them explicitly.
    vintage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ds: Mapped[str] = mapped_column(String(16), primary_key=True)
    y: Mapped[float | None] = mapped_column(Float, nullable=True)


class ForecastsTable(Base):
    """Archive of forecasts made; ``frame`` holds the forecast frame as JSON."""

    __tablename__ = "forecasts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    series_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    vintage_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str] = mapped_column(String(100), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    horizon: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    frame: Mapped[str] = mapped_column(Text)


class ReportDefinitionsTable(Base):
    """One row per report definition; ``spec`` is the whole definition as JSON."""

    __tablename__ = "report_definitions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    schedule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportRunsTable(Base):
    """One row per run of a report, with its status, timings, errors and HTML.

    The unique ``run_key`` (report name and the run's as-of time) is what makes each
    scheduled run happen exactly once across service processes: the process whose insert
    commits runs the report, any other one gets an integrity error and skips.
    """

    __tablename__ = "report_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_name: Mapped[str] = mapped_column(String(64))
    # "<name>|<as_of in UTC ISO format>": unique, so a run is claimed by one process only.
    run_key: Mapped[str] = mapped_column(String(120), unique=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_series: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Renewed by the process producing a running run; once past, the run was interrupted
    # (its process died) and is re-run (migration 0006_run_lease).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index(None, "report_name", "created_at"),)


class JobsTable(Base):
    """One row per durable job (``kind``): request, status, result, and the owner's lease.

    ``request``, ``result`` and ``error`` are JSON text written by the service layer; the
    store does not look inside them.
    """

    __tablename__ = "api_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    n_items: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Renewed by the owner while the job is active; once past, the owner stopped and another
    # instance takes the job over (migration 0011_job_lease, as report_runs.lease_until).
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())


class StructuresTable(Base):
    """One row per stored structure (a hierarchy or a composition over stored series).

    ``spec`` holds the members as JSON: ``{"hierarchy": {aggregate: [children...]}}`` or
    ``{"components": [...], "total": id-or-null}``; the store validates it before writing.
    """

    __tablename__ = "structures"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportDeliveriesTable(Base):
    """One row per delivery of a report run on one channel (revision ``0009_delivery_log``).

    ``target`` is what a reader may see: the recipients, or the webhook URL without its
    query (where tokens travel). No secret is ever written here.
    """

    __tablename__ = "report_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    report_name: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SourceFetchesTable(Base):
    """Where a vintage came from: one row per vintage written by a connector (revision
    ``0008_source_refresh``). Uploads have no row. Kept apart from ``vintages`` so the
    vintage table stays the store's own record. Rows of a deleted series stay, harmless:
    vintage ids never repeat.
    """

    __tablename__ = "source_fetches"

    vintage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(String(500))
    retrieved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_updated: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SourceRefreshesTable(Base):
    """One row per stored source query refreshed on a cron schedule (revision
    ``0008_source_refresh``).

    ``last_fire`` is the latest scheduled time some process claimed (a conditional UPDATE
    moves it forward), which makes each fire run once across service processes.
    """

    __tablename__ = "source_refreshes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(String(500))
    series_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    schedule: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_fire: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobProgressTable(Base):
    """Progress of one piece of long work, whatever its kind (revision ``0010_job_progress``).

    One row per ``(kind, job_id)``: a batch job (``forecast_batch``, id of ``api_jobs``), a
    report run (``report_run``, id of ``report_runs``), a structure forecast or a source
    refresh. The work's own table keeps its status and result; this one says how far it got
    while it runs: items done out of ``n_total``, those that failed (``failures``: a list of
    ``{item, code, message}``, the first :data:`data.progress_repo.MAX_FAILURES` kept).
    """

    __tablename__ = "job_progress"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    n_total: Mapped[int] = mapped_column(Integer)
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    n_retried: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
