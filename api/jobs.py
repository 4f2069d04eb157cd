"""Durable jobs that survive restarts: batch forecasts, structure forecasts, source refreshes.

A job row (table ``api_jobs`` in the store's database, see :mod:`data.jobs_repo`) holds the
kind, the request, the status and, when done, the result; what each kind runs is in
:mod:`api.job_kinds`. The instance running a job renews the row's lease
(``lease_until``, :mod:`data.leases`) every third of ``TRADECAST_JOB_LEASE_SECONDS``. Every
instance periodically looks for queued or running jobs whose lease has ended (their process
died or was restarted): it claims them with a conditional UPDATE (so two workers never both
take one) and runs them again, or marks them failed after ``max_attempts``. A job is
therefore finished, re-run or reported failed, never silently lost. Report runs are leased
the same way, with the same setting, in their own table (:mod:`api.service.reports`).

While it runs, a job records its progress (items done out of the total, per-item failures,
items re-run because their worker process died) in the store's ``job_progress`` table
(:class:`data.progress_repo.ProgressRepository`, the record every kind of job uses), and
:meth:`JobManager.get` returns it with the job. A job some of whose items failed ends
``partial``, never ``succeeded``; a job whose worker process died under it is run once more
at once (a batch re-runs only its lost items).

This module keeps the threads and the decisions; every SQL statement on the table is in
:class:`data.jobs_repo.JobsRepository` (``store.jobs``), on the store's engine, and the
table is created by the store's Alembic history like every other.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.convert import progress_to_read
from api.errors import error_details
from api.job_kinds import JOB_KIND_NAMES, JobContext, JobOutcome, job_kind
from api.metrics import Metrics
from api.schemas import BatchForecastCreate, ErrorDetail, JobRead, RefreshJobCreate
from api.service import ForecastService
from api.settings import Settings
from data import Store
from data.connectors import SourceOptions
from data.jobs_repo import ACTIVE, JobRecord, JobsRepository
from data.leases import Lease, LeaseKeeper
from data.progress_repo import SOURCE_REFRESH, Progress, ProgressRepository, ProgressTracker
from forecasting.exceptions import InvalidParameterError, NotFoundError, WorkerLostError

__all__ = ["JobManager", "JobNotFoundError", "accepted", "check_batch_size", "prefers_async", "submit_refresh_job"]

logger = logging.getLogger(__name__)


class JobNotFoundError(NotFoundError):
    """No job has this id."""

    code = "job_not_found"


def prefers_async(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header asks for ``respond-async`` (RFC 7240): answer 202 with a job."""
    return prefer is not None and any(p.strip().lower() == "respond-async" for p in prefer.split(","))


def accepted(job: JobRead) -> JSONResponse:
    """The 202 answer for a job: the job record, and its address in ``Location``."""
    return JSONResponse(
        job.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED, headers={"Location": f"/v1/jobs/{job.id}"}
    )


class JobManager:
    """Creates, runs, recovers and reports durable jobs for one app instance."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.owner = uuid.uuid4().hex
        self._runner: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._keeper: LeaseKeeper | None = None
        self._context: JobContext | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def context(self) -> JobContext:
        """What jobs run with (given to :meth:`start`)."""
        if self._context is None:
            raise RuntimeError("JobManager.start() was not called")
        return self._context

    @property
    def rows(self) -> JobsRepository:
        """The job rows, in the store given to :meth:`start`."""
        return self.context.store.jobs

    @property
    def progress(self) -> ProgressRepository:
        """The progress records of jobs, in the store given to :meth:`start`."""
        return self.context.store.progress

    def start(self, store: Store, service: ForecastService, sources: Callable[[], SourceOptions] | None = None) -> None:
        """Recover interrupted jobs and start renewing the leases of this instance's jobs.

        ``sources`` gives the connectors' options when a refresh job runs (default: the
        settings'). The ``api_jobs`` table comes from the store's migrations (``store.create_schema()``).
        """
        sources = sources or self.settings.sources.options
        self._context = JobContext(service, store, self.settings.reports, sources)
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradecast-jobs")
        self._stop.clear()
        self.recover()
        # One lease helper for every kind of job (data.leases): here one renewal pushes on the
        # lease of every job this instance owns, then takes over the expired jobs of others.
        self._keeper = LeaseKeeper(self._tick, self.lease.renew_every, name="tradecast-job-lease").start()

    def shutdown(self) -> None:
        """Stop renewing and the runner; unfinished jobs are recovered by the next start."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.stop(timeout=5)
        if self._runner is not None:
            self._runner.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- API
    def submit(self, kind: str, request: BaseModel, n_items: int = 1) -> JobRead:
        """Persist a queued job of ``kind`` (its request as that kind's schema) and schedule it here."""
        if not isinstance(request, job_kind(kind).request):
            raise TypeError(f"a {kind} job takes a {job_kind(kind).request.__name__}")
        job_id = uuid.uuid4().hex
        self.rows.insert(
            job_id,
            kind=kind,
            request=request.model_dump_json(),
            n_items=n_items,
            owner=self.owner,
            lease_until=self.lease.until(),
        )
        self._schedule(job_id)
        return self.get(job_id)

    def get(self, job_id: str) -> JobRead:
        """The job's status (and result), or :class:`JobNotFoundError`."""
        row = self.rows.get(job_id)
        if row is None:
            made = "; ".join(job_kind(name).created_by for name in JOB_KIND_NAMES)
            raise JobNotFoundError(f"no job {job_id!r}; jobs are created by {made}.")
        return self._read(row, self.progress.get(row.kind, row.job_id), with_result=True)

    def page(
        self, *, kind: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[JobRead], int]:
        """One page of jobs, newest first, with their progress but not their results, and how many match."""
        rows, count = self.rows.page(kind=kind, status=status, limit=limit, offset=offset)
        progress = {}
        for name in {row.kind for row in rows}:
            found = self.progress.get_many(name, [row.job_id for row in rows if row.kind == name])
            progress.update({(name, job_id): p for job_id, p in found.items()})
        return [self._read(row, progress.get((row.kind, row.job_id)), with_result=False) for row in rows], count

    @staticmethod
    def _read(row: JobRecord, progress: Progress | None, *, with_result: bool) -> JobRead:
        kind = job_kind(row.kind)
        result = kind.result.model_validate_json(row.result) if row.result and with_result else None
        return JobRead(
            id=row.job_id,
            kind=row.kind,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            attempts=row.attempts,
            n_items=row.n_items,
            progress=progress_to_read(progress),
            result=result,  # type: ignore[arg-type]
            error=ErrorDetail.model_validate_json(row.error) if row.error else None,
        )

    # ---------------------------------------------------------------- running
    def _schedule(self, job_id: str) -> None:
        if self._runner is None:
            raise RuntimeError("JobManager.start() was not called")
        self._runner.submit(self._run, job_id)

    def _set(self, job_id: str, **values: Any) -> bool:
        """Update a job this instance still owns (another one may have taken it over), renewing its lease."""
        return self.rows.update(job_id, owner=self.owner, lease_until=self.lease.until(), **values)

    def _run(self, job_id: str) -> None:
        row = self.rows.get(job_id)
        if row is None or row.status not in ACTIVE or row.owner != self.owner:
            return
        if not self._set(job_id, status="running", attempts=row.attempts + 1):
            return
        logger.info("job %s (%s) started (attempt %d, %d item(s))", job_id, row.kind, row.attempts + 1, row.n_items)
        try:
            outcome = self._outcome(row)
        except BaseException as exc:
            if self._stop.is_set():
                # The server is stopping (its worker pool was shut down under this job): leave
                # the row active so that the next start re-runs it.
                logger.warning("job %s interrupted by shutdown; it will be run again", job_id)
                return
            if not isinstance(exc, Exception):
                raise
            self._fail(job_id, exc)
            return
        status = "partial" if outcome.partial else "succeeded"
        self._set(job_id, status=status, result=outcome.result.model_dump_json())
        self.metrics.jobs.labels(status).inc()
        logger.info("job %s (%s) %s", job_id, row.kind, status)

    def _outcome(self, row: JobRecord) -> JobOutcome:
        """Run the job's kind; a job whose worker process died under it runs once more."""
        kind = job_kind(row.kind)
        request = kind.request.model_validate_json(row.request)
        progress = ProgressTracker(self.progress, row.kind, row.job_id)
        progress.begin(row.n_items)
        try:
            return kind.run(self.context, request, progress)
        except WorkerLostError:
            if self._stop.is_set():
                raise
            logger.warning("job %s: its worker process died; running it once more", row.job_id)
            progress.item_retried(row.job_id)
            return kind.run(self.context, request, progress)

    def _fail(self, job_id: str, exc: Exception) -> None:
        code = str(getattr(exc, "code", "internal_error"))
        # Only our own, user-facing errors are echoed; anything else stays in the log.
        message = str(exc) if hasattr(exc, "code") else "the job failed unexpectedly; see the server log"
        logger.error("job %s failed", job_id, exc_info=exc)
        details = {**error_details(exc), "job_id": job_id} if hasattr(exc, "code") else {"job_id": job_id}
        error = ErrorDetail(code=code, message=message, details=details)
        self._set(job_id, status="failed", error=error.model_dump_json())
        self.metrics.jobs.labels("failed").inc()

    # ---------------------------------------------------------------- recovery
    @property
    def lease(self) -> Lease:
        """A job's lease: ``TRADECAST_JOB_LEASE_SECONDS``, renewed every third of it."""
        return Lease(self.settings.job_lease_seconds)

    def _tick(self) -> None:
        try:
            self.rows.renew(self.owner, self.lease.until())
            self.recover()
        except Exception:  # the database may be briefly unavailable; try again next tick
            logger.warning("job lease renewal/recovery failed", exc_info=True)

    def recover(self) -> list[str]:
        """Claim jobs whose owner stopped renewing their lease: re-run them, or fail them after max attempts."""
        claimed: list[str] = []
        for row in self.rows.list_expired():
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
            # Conditional on the lease we read: if another instance claimed it first, the
            # lease changed and the claim matches nothing.
            if not self.rows.claim(row, self.owner, self.lease.until(), **values):
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


def submit_refresh_job(jobs: JobManager, name: str) -> JobRead:
    """Queue a run of the refresh ``name`` as a durable job (the REST route and the scheduler)."""
    return jobs.submit(SOURCE_REFRESH, RefreshJobCreate(name=name))
