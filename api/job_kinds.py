"""The kinds of durable job: what each one runs, and what its result is.

A job row (``api_jobs``) stores a request as JSON and a ``kind``; the job runner
(:class:`api.jobs.JobManager`) claims the row, leases it and calls the kind's
:class:`JobKind` ``run`` with a :class:`~data.progress_repo.ProgressTracker` keyed by the
job's id. Every kind answers the body its synchronous route answers, so a client gets the
same result with or without a job:

- ``forecast_batch``: :class:`~api.schemas.BatchForecastCreate` → :class:`~api.schemas.BatchForecastRead`
  (``partial`` when some series failed);
- ``structure_forecast``: :class:`~api.schemas.StructureJobCreate` → :class:`~api.schemas.StructureForecastRead`;
- ``source_refresh``: :class:`~api.schemas.RefreshJobCreate` → :class:`~api.schemas.RefreshRunRead`
  (``partial`` when a report run it triggered failed).

Report runs are durable jobs of their own table (``report_runs``: one row per scheduled slot,
claimed once across instances), leased the same way (:mod:`data.leases`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api.convert import batch_request, batch_to_read, refresh_run_to_read, structure_forecast_to_read
from api.schemas import (
    BatchForecastCreate,
    BatchForecastRead,
    RefreshJobCreate,
    RefreshRunRead,
    StructureForecastRead,
    StructureJobCreate,
)
from api.service.forecasts import ForecastService
from api.service.structures import forecast_structure
from data import Store
from data.connectors import SourceOptions
from data.progress_repo import FORECAST_BATCH, SOURCE_REFRESH, STRUCTURE_FORECAST, ProgressTracker
from reports.options import ReportOptions
from reports.refresh import run_refresh
from reports.store import FAILED

__all__ = ["JOB_KIND_NAMES", "JobContext", "JobKind", "JobOutcome", "job_kind"]


@dataclass(frozen=True)
class JobContext:
    """What a job runs with: the instance's forecasting service, store and options."""

    service: ForecastService
    store: Store
    reports: ReportOptions
    #: The connectors' options, read when a refresh runs.
    sources: Callable[[], SourceOptions]


@dataclass(frozen=True)
class JobOutcome:
    """A finished job's result and whether some of its items failed (``partial``)."""

    result: BaseModel
    partial: bool = False


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its request and result schemas and the function that runs it."""

    name: str
    request: type[BaseModel]
    result: type[BaseModel]
    #: Called with the request parsed as ``request`` (so typed with that schema).
    run: Callable[[JobContext, Any, ProgressTracker], JobOutcome]
    #: How a job of this kind is created, for the message of an unknown job id.
    created_by: str


def _forecast_batch(ctx: JobContext, request: BatchForecastCreate, progress: ProgressTracker) -> JobOutcome:
    result = batch_to_read(ctx.service.forecast_batch(batch_request(request), ctx.store, progress=progress))
    # Failed items are the job's outcome too: "succeeded" means every series was forecast.
    return JobOutcome(result, partial=result.failed > 0)


def _structure_forecast(ctx: JobContext, request: StructureJobCreate, progress: ProgressTracker) -> JobOutcome:
    body = request.forecast
    forecast = forecast_structure(
        ctx.store,
        ctx.service.executor,  # not the bounded fitting queue: the job runner bounds its jobs
        ctx.service.limits,
        request.name,
        horizon=body.horizon,
        levels=body.levels,
        as_of=body.as_of,
        progress=progress,
    )
    return JobOutcome(structure_forecast_to_read(forecast))


def _source_refresh(ctx: JobContext, request: RefreshJobCreate, progress: ProgressTracker) -> JobOutcome:
    result = run_refresh(request.name, ctx.store, options=ctx.reports, sources=ctx.sources(), progress=progress)
    return JobOutcome(refresh_run_to_read(result, ctx.store), partial=any(r.status == FAILED for r in result.reports))


_KINDS = {
    kind.name: kind
    for kind in (
        JobKind(FORECAST_BATCH, BatchForecastCreate, BatchForecastRead, _forecast_batch, "POST /v1/forecasts/batch"),
        JobKind(
            STRUCTURE_FORECAST,
            StructureJobCreate,
            StructureForecastRead,
            _structure_forecast,
            "POST /v1/structures/{name}/forecasts with Prefer: respond-async",
        ),
        JobKind(
            SOURCE_REFRESH,
            RefreshJobCreate,
            RefreshRunRead,
            _source_refresh,
            "POST /v1/refreshes/{name}/run with Prefer: respond-async, and the service's refresh schedule",
        ),
    )
}

#: The kinds of job rows, by name.
JOB_KIND_NAMES: tuple[str, ...] = tuple(_KINDS)


def job_kind(name: str) -> JobKind:
    """The job kind ``name`` (``KeyError`` for a kind this version does not run)."""
    return _KINDS[name]
