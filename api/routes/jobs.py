"""Durable jobs: batch forecasts, structure forecasts and source refreshes run in the background."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import JobsDep
from api.schemas import ErrorRead, JobRead, JobsPage

__all__ = ["router"]

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobRead, responses={404: {"model": ErrorRead}})
def read_job(job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], jobs: JobsDep) -> JobRead:
    """Status and progress (items done / total, failures, time left) of a job, and its result once done."""
    return jobs.get(job_id)


@router.get("", response_model=JobsPage)
def read_jobs(
    jobs: JobsDep,
    kind: Annotated[Literal["forecast_batch", "structure_forecast", "source_refresh"] | None, Query()] = None,
    status: Annotated[Literal["queued", "running", "succeeded", "partial", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> JobsPage:
    """List jobs newest first, with their progress (a job's result: read the job), e.g. the refreshes the
    scheduler ran (kind=source_refresh) or what is running now (status=running)."""
    page, count = jobs.page(kind=kind, status=status, limit=limit, offset=offset)
    return JobsPage(data=page, count=count)
