"""Asynchronous batch-forecast jobs that survive restarts.

A job row (table ``api_jobs`` in the store's database, created by this module) holds the
request, the status and, when done, the result. The instance running a job refreshes the
row's ``heartbeat_at`` every few seconds. Every instance periodically looks for queued or
running jobs whose heartbeat is stale (their process died or was restarted): it claims
them with a conditional UPDATE (so two workers never both take one) and runs them again,
or marks them failed after ``max_attempts``. A job is therefore finished, re-run or
reported failed, never silently lost.

The table lives in this module's own metadata (not the store's Alembic history) because
it is private to the service; ``create_all`` adds it to any store database.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from api.convert import batch_request, batch_to_read
from api.metrics import Metrics
from api.schemas import BatchForecastCreate, BatchForecastRead, ErrorDetail, JobRead
from api.service import ForecastService
from api.settings import Settings
from data import Store
from data.db import WRITE, create_store_engine
from data.tables import UTCDateTime
from forecasting.exceptions import InvalidParameterError, NotFoundError

__all__ = ["JobManager", "JobNotFoundError", "jobs_table"]

logger = logging.getLogger(__name__)

_metadata = MetaData()

jobs_table = Table(
    "api_jobs",
    _metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("request", Text, nullable=False),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("n_items", Integer, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("owner", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

_ACTIVE = ("queued", "running")


class JobNotFoundError(NotFoundError):
    """No job has this id."""

    code = "job_not_found"


def _now() -> datetime:
    return datetime.now(UTC)


class JobManager:
    """Creates, runs, recovers and reports batch jobs for one app instance."""

    def __init__(self, settings: Settings, metrics: Metrics, database_url: str) -> None:
        self.settings = settings
        self.metrics = metrics
        self.database_url = database_url
        self.owner = uuid.uuid4().hex
        self._engine: Engine | None = None
        self._runner: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._store: Store | None = None
        self._service: ForecastService | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def engine(self) -> Engine:
        """The engine on the store's database (built on first use)."""
        if self._engine is None:
            self._engine = create_store_engine(self.database_url)
        return self._engine

    def start(self, store: Store, service: ForecastService) -> None:
        """Create the table, recover interrupted jobs and start the heartbeat thread."""
        self._store, self._service = store, service
        self._create_table()
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradecast-jobs")
        self._stop.clear()
        self.recover()
        self._ticker = threading.Thread(target=self._tick, name="tradecast-job-heartbeat", daemon=True)
        self._ticker.start()

    def _create_table(self) -> None:
        # Several uvicorn workers start at once: the write lock serialises them on SQLite;
        # on PostgreSQL the loser of a CREATE TABLE race finds the table on its retry.
        for attempt in (1, 2):
            try:
                with self.engine.connect().execution_options(**{WRITE: True}) as conn:
                    _metadata.create_all(conn, checkfirst=True)
                    conn.commit()
                return
            except SQLAlchemyError:
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def shutdown(self) -> None:
        """Stop the heartbeat and the runner; unfinished jobs are recovered by the next start."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        if self._runner is not None:
            self._runner.shutdown(wait=False, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ---------------------------------------------------------------- API
    def check_size(self, body: BatchForecastCreate, settings: Settings) -> None:
        """Refuse batches above ``TRADECAST_MAX_BATCH_SERIES`` (422)."""
        if len(body.series) > settings.max_batch_series:
            exc = InvalidParameterError(
                f"the batch has {len(body.series)} series; at most {settings.max_batch_series} are "
                "accepted per request (TRADECAST_MAX_BATCH_SERIES)."
            )
            exc.details = {"field": "series", "limit": settings.max_batch_series}  # type: ignore[attr-defined]
            raise exc

    def submit(self, body: BatchForecastCreate) -> JobRead:
        """Persist a queued job and schedule it on this instance."""
        job_id = uuid.uuid4().hex
        now = _now()
        with self.engine.connect().execution_options(**{WRITE: True}) as conn:
            conn.execute(
                insert(jobs_table).values(
                    id=job_id,
                    kind="forecast_batch",
                    status="queued",
                    request=body.model_dump_json(),
                    n_items=len(body.series),
                    attempts=0,
                    owner=self.owner,
                    created_at=now,
                    updated_at=now,
                    heartbeat_at=now,
                )
            )
            conn.commit()
        self._schedule(job_id)
        return self.get(job_id)

    def get(self, job_id: str) -> JobRead:
        """The job's status (and result), or :class:`JobNotFoundError`."""
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).mappings().first()
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r}; jobs are created by POST /v1/forecasts/batch.")
        return JobRead(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            attempts=row["attempts"],
            n_items=row["n_items"],
            result=BatchForecastRead.model_validate_json(row["result"]) if row["result"] else None,
            error=ErrorDetail.model_validate_json(row["error"]) if row["error"] else None,
        )

    # ---------------------------------------------------------------- running
    def _schedule(self, job_id: str) -> None:
        if self._runner is None:
            raise RuntimeError("JobManager.start() was not called")
        self._runner.submit(self._run, job_id)

    def _set(self, job_id: str, *, only_if_owner: bool = True, **values: Any) -> bool:
        now = _now()
        stmt = update(jobs_table).where(jobs_table.c.id == job_id)
        if only_if_owner:
            stmt = stmt.where(jobs_table.c.owner == self.owner)
        with self.engine.connect().execution_options(**{WRITE: True}) as conn:
            done = conn.execute(stmt.values(updated_at=now, heartbeat_at=now, **values)).rowcount
            conn.commit()
        return bool(done)

    def _run(self, job_id: str) -> None:
        service, store = self._service, self._store
        if service is None or store is None:
            raise RuntimeError("JobManager.start() was not called")
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).mappings().first()
        if row is None or row["status"] not in _ACTIVE or row["owner"] != self.owner:
            return
        if not self._set(job_id, status="running", attempts=row["attempts"] + 1):
            return
        logger.info("job %s started (attempt %d, %d series)", job_id, row["attempts"] + 1, row["n_items"])
        try:
            body = BatchForecastCreate.model_validate_json(row["request"])
            result = batch_to_read(service.forecast_batch(batch_request(body), store))
        except BaseException as exc:
            if self._stop.is_set():
                # The server is stopping (its worker pool was shut down under this job): leave
                # the row active so that the next start re-runs it.
                logger.warning("job %s interrupted by shutdown; it will be run again", job_id)
                return
            if not isinstance(exc, Exception):
                raise
            code = str(getattr(exc, "code", "internal_error"))
            # Only our own, user-facing errors are echoed; anything else stays in the log.
            message = str(exc) if hasattr(exc, "code") else "the job failed unexpectedly; see the server log"
            logger.error("job %s failed", job_id, exc_info=exc)
            error = ErrorDetail(code=code, message=message, details={"job_id": job_id})
            self._set(job_id, status="failed", error=error.model_dump_json())
            self.metrics.jobs.labels("failed").inc()
            return
        self._set(job_id, status="succeeded", result=result.model_dump_json())
        self.metrics.jobs.labels("succeeded").inc()
        logger.info("job %s succeeded (%d series, %d failed)", job_id, result.count, result.failed)

    # ---------------------------------------------------------------- recovery
    def _tick(self) -> None:
        while not self._stop.wait(self.settings.job_heartbeat_seconds):
            try:
                self._heartbeat()
                self.recover()
            except Exception:  # the database may be briefly unavailable; try again next tick
                logger.warning("job heartbeat/recovery failed", exc_info=True)

    def _heartbeat(self) -> None:
        with self.engine.connect().execution_options(**{WRITE: True}) as conn:
            conn.execute(
                update(jobs_table)
                .where(jobs_table.c.owner == self.owner, jobs_table.c.status.in_(_ACTIVE))
                .values(heartbeat_at=_now())
            )
            conn.commit()

    def recover(self) -> list[str]:
        """Claim jobs whose owner stopped heart-beating: re-run them, or fail them after max attempts."""
        stale_before = _now() - timedelta(seconds=self.settings.job_stale_seconds)
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(jobs_table.c.id, jobs_table.c.attempts, jobs_table.c.heartbeat_at).where(
                        jobs_table.c.status.in_(_ACTIVE), jobs_table.c.heartbeat_at < stale_before
                    )
                )
                .mappings()
                .all()
            )
        claimed: list[str] = []
        for row in rows:
            now = _now()
            give_up = row["attempts"] >= self.settings.job_max_attempts
            values: dict[str, Any] = {"owner": self.owner, "updated_at": now, "heartbeat_at": now}
            if give_up:
                error = ErrorDetail(
                    code="job_interrupted",
                    message=f"the job was interrupted {row['attempts']} time(s) by a server stop; "
                    "it was not retried again. Submit it again or use smaller batches.",
                    details={"job_id": row["id"], "attempts": row["attempts"]},
                )
                values.update(status="failed", error=error.model_dump_json())
            else:
                values.update(status="queued")
            with self.engine.connect().execution_options(**{WRITE: True}) as conn:
                # Conditional on the heartbeat we read: if another instance claimed it first,
                # its heartbeat changed and this UPDATE matches nothing.
                won = conn.execute(
                    update(jobs_table)
                    .where(
                        jobs_table.c.id == row["id"],
                        jobs_table.c.heartbeat_at == row["heartbeat_at"],
                        jobs_table.c.status.in_(_ACTIVE),
                    )
                    .values(**values)
                ).rowcount
                conn.commit()
            if not won:
                continue
            if give_up:
                self.metrics.jobs.labels("failed").inc()
                logger.warning("job %s failed after %d interrupted attempts", row["id"], row["attempts"])
            else:
                logger.warning("job %s was interrupted; running it again", row["id"])
                claimed.append(row["id"])
                self._schedule(row["id"])
        return claimed
