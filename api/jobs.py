"""Asynchronous batch-forecast jobs that survive restarts.

A job row (table ``api_jobs`` in the store's database, see :mod:`data.jobs_repo`) holds the
request, the status and, when done, the result. The instance running a job refreshes the
row's ``heartbeat_at`` every few seconds. Every instance periodically looks for queued or
running jobs whose heartbeat is stale (their process died or was restarted): it claims
them with a conditional UPDATE (so two workers never both take one) and runs them again,
or marks them failed after ``max_attempts``. A job is therefore finished, re-run or
reported failed, never silently lost.

While it runs, a job records its progress (items done out of the total, per-item failures,
items re-run because their worker process died) in the store's ``job_progress`` table
(:class:`data.progress_repo.ProgressRepository`, the record every kind of job uses), and
:meth:`JobManager.get` returns it with the job. A job some of whose items failed ends
``partial``, never ``succeeded``.

This module keeps the threads and the decisions; every SQL statement on the table is in
:class:`data.jobs_repo.JobsRepository` (``store.jobs``), on the store's engine, and the
table is created by the store's Alembic history like every other.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.convert import batch_request, batch_to_read, progress_to_read
from api.metrics import Metrics
from api.schemas import BatchForecastCreate, BatchForecastRead, ErrorDetail, JobRead
from api.service import ForecastService
from api.settings import Settings
from data import Store
from data.jobs_repo import ACTIVE, JobsRepository
from data.leases import Lease, LeaseKeeper
from data.progress_repo import FORECAST_BATCH, ProgressRepository, ProgressTracker
from forecasting.exceptions import InvalidParameterError, NotFoundError

__all__ = ["JobManager", "JobNotFoundError", "check_batch_size"]

logger = logging.getLogger(__name__)


class JobNotFoundError(NotFoundError):
    """No job has this id."""

    code = "job_not_found"


class JobManager:
    """Creates, runs, recovers and reports batch jobs for one app instance."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.owner = uuid.uuid4().hex
        self._runner: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._keeper: LeaseKeeper | None = None
        self._store: Store | None = None
        self._service: ForecastService | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def rows(self) -> JobsRepository:
        """The job rows, in the store given to :meth:`start`."""
        if self._store is None:
            raise RuntimeError("JobManager.start() was not called")
        return self._store.jobs

    def start(self, store: Store, service: ForecastService) -> None:
        """Recover interrupted jobs and start the heartbeat thread.

        The ``api_jobs`` table comes from the store's migrations (``store.create_schema()``).
        """
        self._store, self._service = store, service
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradecast-jobs")
        self._stop.clear()
        self.recover()
        # One lease helper for every kind of job (data.leases): here one renewal refreshes the
        # heartbeat of every job this instance owns, then takes over the stale jobs of others.
        self._keeper = LeaseKeeper(self._tick, self.lease.renew_every, name="tradecast-job-heartbeat").start()

    def shutdown(self) -> None:
        """Stop the heartbeat and the runner; unfinished jobs are recovered by the next start."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.stop(timeout=5)
        if self._runner is not None:
            self._runner.shutdown(wait=False, cancel_futures=True)

    @property
    def progress(self) -> ProgressRepository:
        """The progress records of jobs, in the store given to :meth:`start`."""
        if self._store is None:
            raise RuntimeError("JobManager.start() was not called")
        return self._store.progress

    # ---------------------------------------------------------------- API
    def check_size(self, body: BatchForecastCreate, settings: Settings) -> None:
        """Refuse batches above ``TRADECAST_MAX_BATCH_SERIES`` (422; :func:`check_batch_size`)."""
        check_batch_size(body, settings)

    def submit(self, body: BatchForecastCreate) -> JobRead:
        """Persist a queued job and schedule it on this instance."""
        job_id = uuid.uuid4().hex
        self.rows.insert(
            job_id, kind=FORECAST_BATCH, request=body.model_dump_json(), n_items=len(body.series), owner=self.owner
        )
        self._schedule(job_id)
        return self.get(job_id)

    def get(self, job_id: str) -> JobRead:
        """The job's status (and result), or :class:`JobNotFoundError`."""
        row = self.rows.get(job_id)
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r}; jobs are created by POST /v1/forecasts/batch.")
        return JobRead(
            id=row.job_id,
            kind=row.kind,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            attempts=row.attempts,
            n_items=row.n_items,
            progress=progress_to_read(self.progress.get(row.kind, row.job_id)),
            result=BatchForecastRead.model_validate_json(row.result) if row.result else None,
            error=ErrorDetail.model_validate_json(row.error) if row.error else None,
        )

    # ---------------------------------------------------------------- running
    def _schedule(self, job_id: str) -> None:
        if self._runner is None:
            raise RuntimeError("JobManager.start() was not called")
        self._runner.submit(self._run, job_id)

    def _set(self, job_id: str, **values: Any) -> bool:
        """Update a job this instance still owns (another one may have taken it over)."""
        return self.rows.update(job_id, owner=self.owner, **values)

    def _run(self, job_id: str) -> None:
        service, store = self._service, self._store
        if service is None or store is None:
            raise RuntimeError("JobManager.start() was not called")
        row = self.rows.get(job_id)
        if row is None or row.status not in ACTIVE or row.owner != self.owner:
            return
        if not self._set(job_id, status="running", attempts=row.attempts + 1):
            return
        logger.info("job %s started (attempt %d, %d series)", job_id, row.attempts + 1, row.n_items)
        progress = ProgressTracker(store.progress, row.kind, job_id)
        progress.begin(row.n_items)
        try:
            body = BatchForecastCreate.model_validate_json(row.request)
            result = batch_to_read(service.forecast_batch(batch_request(body), store, progress=progress))
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
        # Failed items are the job's outcome too: "succeeded" means every series was forecast.
        outcome = "partial" if result.failed else "succeeded"
        self._set(job_id, status=outcome, result=result.model_dump_json())
        self.metrics.jobs.labels(outcome).inc()
        logger.info("job %s %s (%d series, %d failed)", job_id, outcome, result.count, result.failed)

    # ---------------------------------------------------------------- recovery
    @property
    def lease(self) -> Lease:
        """A batch job's lease: ``TRADECAST_JOB_STALE_SECONDS``, renewed every ``TRADECAST_JOB_HEARTBEAT_SECONDS``."""
        return Lease(self.settings.job_stale_seconds, renew_seconds=self.settings.job_heartbeat_seconds)

    def _tick(self) -> None:
        try:
            self.rows.heartbeat(self.owner)
            self.recover()
        except Exception:  # the database may be briefly unavailable; try again next tick
            logger.warning("job heartbeat/recovery failed", exc_info=True)

    def recover(self) -> list[str]:
        """Claim jobs whose owner stopped heart-beating: re-run them, or fail them after max attempts."""
        stale_before = self.lease.stale_before()
        claimed: list[str] = []
        for row in self.rows.list_stale(stale_before):
            give_up = row.attempts >= self.settings.job_max_attempts
            values: dict[str, Any] = {"status": "queued"}
            if give_up:
                error = ErrorDetail(
                    code="job_interrupted",
                    message=f"the job was interrupted {row.attempts} time(s) by a server stop; "
                    "it was not retried again. Submit it again or use smaller batches.",
                    details={"job_id": row.job_id, "attempts": row.attempts},
                )
                values = {"status": "failed", "error": error.model_dump_json()}
            # Conditional on the heartbeat we read: if another instance claimed it first,
            # its heartbeat changed and the claim matches nothing.
            if not self.rows.claim(row, self.owner, **values):
                continue
            if give_up:
                self.metrics.jobs.labels("failed").inc()
                logger.warning("job %s failed after %d interrupted attempts", row.job_id, row.attempts)
            else:
                logger.warning("job %s was interrupted; running it again", row.job_id)
                claimed.append(row.job_id)
                self._schedule(row.job_id)
        return claimed


def check_batch_size(body: BatchForecastCreate, settings: Settings) -> None:
    """Refuse a batch above ``TRADECAST_MAX_BATCH_SERIES`` series (``InvalidParameterError``, 422), for REST
    and ``tradecast forecast-batch`` alike."""
    if len(body.series) > settings.max_batch_series:
        exc = InvalidParameterError(
            f"the batch has {len(body.series)} series; at most {settings.max_batch_series} are "
            "accepted per request (TRADECAST_MAX_BATCH_SERIES)."
        )
        exc.details = {"field": "series", "limit": settings.max_batch_series}  # type: ignore[attr-defined]
        raise exc
