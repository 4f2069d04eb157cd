"""Shared lookups as ``Annotated`` dependency aliases (STYLE §6).

The lookups that only read ``app.state`` are ``async``: FastAPI runs plain ``def``
dependencies in its threadpool, which would cost a thread hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Path, Request

from api.jobs import JobManager
from api.metrics import Metrics
from api.service import ForecastService
from api.settings import Settings
from data import SeriesNotFoundError, Store
from data.connectors import SourceOptions
from data.meta import SERIES_ID_PATTERN

__all__ = [
    "ExistingSeriesId",
    "JobsDep",
    "MetricsDep",
    "PreferHeader",
    "ServiceDep",
    "SettingsDep",
    "StoreDep",
    "app_source_options",
    "existing_series_id",
    "get_app_settings",
]


def app_source_options(app: FastAPI) -> SourceOptions:
    """The app's connector options: from its settings, or ``app.state.source_options`` when a test sets it."""
    options: SourceOptions | None = getattr(app.state, "source_options", None)
    return options or app.state.settings.sources.options()


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with: ``create_app(settings)``, else :func:`~api.settings.get_settings`.

    Not ``Depends(get_settings)`` plus a ``dependency_overrides`` entry: while that dict is
    non-empty FastAPI rebuilds every dependency of every request (about 1 ms each), so
    overrides are left to tests. Tests pass their settings to ``create_app`` or override
    this function.
    """
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_store(request: Request) -> Store:
    """The app's store (opened by :func:`api.main.create_app`)."""
    store: Store = request.app.state.store
    return store


async def get_service(request: Request) -> ForecastService:
    """The app's forecast service (cache and worker pool)."""
    service: ForecastService = request.app.state.service
    return service


async def get_metrics(request: Request) -> Metrics:
    """The app's metrics registry."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_jobs(request: Request) -> JobManager:
    """The app's batch-job manager."""
    jobs: JobManager = request.app.state.jobs
    return jobs


StoreDep = Annotated[Store, Depends(get_store)]
ServiceDep = Annotated[ForecastService, Depends(get_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]


def existing_series_id(
    store: StoreDep,
    series_id: Annotated[str, Path(pattern=f"^{SERIES_ID_PATTERN.pattern}$", max_length=100)],
) -> str:
    """The path's series id, or :class:`~data.SeriesNotFoundError` (404) if nothing is stored under it."""
    if not store.series.has_series(series_id):
        raise SeriesNotFoundError(f"no series {series_id!r} is stored; list them with GET /v1/series.")
    return series_id


ExistingSeriesId = Annotated[str, Depends(existing_series_id)]

#: The ``Prefer`` request header: ``respond-async`` asks for a job (202) instead of waiting for the answer.
PreferHeader = Annotated[
    str | None,
    Header(
        description="respond-async: answer 202 at once with a job to poll at GET /v1/jobs/{id} "
        "(its result is this route's answer).",
        examples=["respond-async"],
    ),
]
