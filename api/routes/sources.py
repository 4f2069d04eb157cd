"""Official sources: fetch a query into the store now, or refresh it on a cron schedule."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from api.convert import fetched_series_to_read, progress_to_read, refresh_run_to_read
from api.deps import ExistingSeriesId, JobsDep, PreferHeader, StoreDep, app_source_options
from api.jobs import accepted, prefers_async, submit_refresh_job
from api.schemas import (
    ErrorRead,
    FetchCreate,
    FetchRead,
    JobRead,
    RefreshCreate,
    RefreshesPage,
    RefreshRead,
    RefreshRunRead,
    SourceRead,
    VintageSourceRead,
)
from data import Store
from data.connectors import SourceOptions, list_sources
from data.progress_repo import SOURCE_REFRESH
from data.sources_repo import RefreshDefinition, StoredRefresh
from reports.refresh import create_refresh, run_refresh

__all__ = ["router"]

router = APIRouter(tags=["sources"])

RefreshName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", max_length=64)]
_SOURCE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorRead, "description": "The source has no data for the query (empty_result)."},
    422: {"model": ErrorRead, "description": "Unknown source, malformed query, or a query the source refused."},
    502: {"model": ErrorRead, "description": "The source failed or answered in an unexpected shape."},
    504: {"model": ErrorRead, "description": "The source did not answer in time (TRADECAST_SOURCE_TIMEOUT_SECONDS)."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorRead, "description": "No refresh of that name."}}


def get_source_options(request: Request) -> SourceOptions:
    """Connector options from the settings (``app.state.source_options`` when a test sets it)."""
    return app_source_options(request.app)


SourceOptionsDep = Annotated[SourceOptions, Depends(get_source_options)]


def _refresh_read(stored: StoredRefresh, store: Store) -> RefreshRead:
    d = stored.definition
    return RefreshRead(
        name=d.name,
        source=d.source,
        query=d.query,
        schedule=d.schedule,
        timezone=d.timezone,
        enabled=d.enabled,
        series_id=d.series_id,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        last_run_at=stored.last_run_at,
        last_status=stored.last_status,
        last_error=stored.last_error,
        last_result=stored.last_result,
        progress=progress_to_read(store.progress.get(SOURCE_REFRESH, d.name)),
    )


@router.get("/sources", response_model=list[SourceRead])
async def read_sources() -> list[SourceRead]:
    """List the official sources and the query syntax of each."""
    return [SourceRead(name=name, description=text) for name, text in list_sources().items()]


@router.post("/fetch", response_model=FetchRead, responses=_SOURCE_ERRORS)
def create_fetch(body: FetchCreate, store: StoreDep, options: SourceOptionsDep) -> FetchRead:
    """Fetch a query from an official source and store each series as a vintage if its data changed."""
    result, outcomes = store.sources.fetch_and_store(body.source, body.query, options=options, series_id=body.series_id)
    return FetchRead(
        source=result.source,
        query=result.query,
        retrieved_at=result.retrieved_at,
        published_at=result.published_at,
        series=[fetched_series_to_read(o, store) for o in outcomes],
    )


@router.get(
    "/vintages/{vintage_id}/source",
    response_model=VintageSourceRead,
    responses={404: {"model": ErrorRead, "description": "No such vintage, or it was uploaded, not fetched."}},
)
def read_vintage_source(vintage_id: Annotated[int, Path(ge=1, le=2**62)], store: StoreDep) -> VintageSourceRead:
    """Read the source, query and retrieval time of a vintage fetched from an official source."""
    record = store.sources.get_fetch_record(vintage_id)
    return VintageSourceRead(**asdict(record))


@router.get(
    "/series/{series_id}/vintages/{vintage}/source",
    response_model=VintageSourceRead,
    responses={404: {"model": ErrorRead, "description": "No such series or vintage, or it was uploaded, not fetched."}},
)
def read_series_vintage_source(
    series_id: ExistingSeriesId,
    vintage: Annotated[
        int, Path(ge=1, le=2**62, description="The series' vintage number (1, 2, ... as listed), else its vintage id.")
    ],
    store: StoreDep,
) -> VintageSourceRead:
    """Read the source, query and retrieval time of one vintage of a series, by its number."""
    record = store.sources.get_fetch_record(store.series.resolve_vintage(series_id, vintage))
    return VintageSourceRead(**asdict(record))


@router.post(
    "/refreshes",
    status_code=status.HTTP_201_CREATED,
    response_model=RefreshRead,
    responses={409: {"model": ErrorRead, "description": "A refresh of that name exists."}},
)
def create_refresh_route(body: RefreshCreate, store: StoreDep) -> RefreshRead:
    """Store a source query to fetch on a cron schedule (schedule, source and query checked now)."""
    definition = RefreshDefinition(
        body.name, body.source, body.query, body.schedule, body.timezone, body.enabled, body.series_id
    )
    return _refresh_read(create_refresh(store, definition), store)


@router.get("/refreshes", response_model=RefreshesPage)
def read_refreshes(store: StoreDep) -> RefreshesPage:
    """List the stored refreshes with their last outcome."""
    stored = store.sources.list_refreshes()
    return RefreshesPage(data=[_refresh_read(s, store) for s in stored], count=len(stored))


@router.get("/refreshes/{name}", response_model=RefreshRead, responses=_NOT_FOUND)
def read_refresh(name: RefreshName, store: StoreDep) -> RefreshRead:
    """Read one refresh."""
    return _refresh_read(store.sources.get_refresh(name), store)


@router.delete("/refreshes/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_refresh(name: RefreshName, store: StoreDep) -> Response:
    """Delete a refresh (the vintages it fetched stay)."""
    store.sources.delete_refresh(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/refreshes/{name}/run",
    response_model=RefreshRunRead,
    responses={
        **_SOURCE_ERRORS,
        **_NOT_FOUND,
        202: {"model": JobRead, "description": "Asked with Prefer: respond-async: accepted as a job to poll."},
    },
)
def run_refresh_route(
    name: RefreshName,
    request: Request,
    store: StoreDep,
    options: SourceOptionsDep,
    jobs: JobsDep,
    prefer: PreferHeader = None,
) -> RefreshRunRead | Response:
    """Run a refresh now: fetch, store changed series, run the reports that use them.

    With ``Prefer: respond-async``, answer 202 at once with a durable job whose progress counts
    the fetch and each report run, and whose result is this answer.
    """
    if prefers_async(prefer):
        store.sources.get_refresh(name)  # 404 now, not in the job
        return accepted(submit_refresh_job(jobs, name))
    result = run_refresh(name, store, options=request.app.state.settings.reports, sources=options)
    return refresh_run_to_read(result, store)
