"""Asynchronous batch jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import JobsDep
from api.schemas import ErrorRead, JobRead

__all__ = ["router"]

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobRead, responses={404: {"model": ErrorRead}})
def read_job(job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], jobs: JobsDep) -> JobRead:
    """Status and progress (series done / total, failures, time left) of a batch job, and its result once done."""
    return jobs.get(job_id)
