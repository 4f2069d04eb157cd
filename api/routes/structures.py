"""Stored structures: define, list, read, delete, and forecast coherently by name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from api.convert import structure_create, structure_forecast_to_read, structure_member_to_read, structure_to_read
from api.deps import JobsDep, PreferHeader, ServiceDep, StoreDep
from api.jobs import accepted, prefers_async
from api.schemas import (
    ErrorRead,
    JobRead,
    StructureCreate,
    StructureForecastCreate,
    StructureForecastRead,
    StructureJobCreate,
    StructureMemberForecastRead,
    StructureRead,
    StructuresPage,
)
from api.service.structures import (
    StructureForecast,
    check_structure_forecast,
    delete_structure_and_progress,
    resolved,
    start_structure_forecast,
    structure_progress,
    structures_progress,
)
from api.waiting import await_futures, client_gone_response
from data.progress_repo import STRUCTURE_FORECAST

__all__ = ["router"]

router = APIRouter(prefix="/structures", tags=["structures"])

Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]
#: A node's id: a stored series, or an aggregate the structure derives, which a structure by tags
#: names ``root:key=value``; so no series-id pattern, only compared with the structure's nodes.
NodeId = Annotated[str, Path(min_length=1, max_length=300)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorRead, "description": "No structure of that name."}}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorRead, "description": "A bad definition: unknown ids, a cycle, a bad method."}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StructureRead,
    responses={**_INVALID, 409: {"model": ErrorRead, "description": "A structure of that name exists."}},
)
def create_structure(body: StructureCreate, store: StoreDep) -> StructureRead:
    """Define a hierarchy or a composition over stored series, by ids or by tags (checked now: ids, cycles,
    method, model; a structure by tags must match series)."""
    return structure_to_read(resolved(store, store.structures.define(structure_create(body))))


@router.get("", response_model=StructuresPage)
def read_structures(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> StructuresPage:
    """List the stored structures by name."""
    page, count = store.structures.list(limit=limit, offset=offset)
    progress = structures_progress(store, [s.name for s in page])
    return StructuresPage(data=[structure_to_read(resolved(store, s), progress.get(s.name)) for s in page], count=count)


@router.get("/{name}", response_model=StructureRead, responses=_NOT_FOUND)
def read_structure(name: Name, store: StoreDep) -> StructureRead:
    """Read one stored structure and its last forecast's progress (by tags: the series it matches now)."""
    structure = resolved(store, store.structures.get(name))
    return structure_to_read(structure, structures_progress(store, [name]).get(name))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_structure(name: Name, store: StoreDep) -> Response:
    """Delete a stored structure (its series stay)."""
    delete_structure_and_progress(store, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _forecast(
    name: str, body: StructureForecastCreate, request: Request, store: StoreDep, service: ServiceDep, member: str | None
) -> StructureForecast | None:
    """The structure's forecast, or ``None`` when the client has gone.

    Like a forecast: members read in the threadpool, the fit admitted to the bounded fitting
    queue (503 when full) and awaited on the event loop, not in a thread.
    """
    fit = await run_in_threadpool(
        start_structure_forecast,
        store,
        service.submit_fit,
        service.limits,
        name,
        horizon=body.horizon,
        levels=body.levels,
        as_of=body.as_of,
        member=member,
        progress=structure_progress(store, name),
    )
    outcomes = await await_futures([fit.future], request.is_disconnected)
    return None if outcomes is None else fit.finish(outcomes[0])


@router.post(
    "/{name}/forecasts",
    response_model=StructureForecastRead,
    responses={
        **_NOT_FOUND,
        202: {"model": JobRead, "description": "Asked with Prefer: respond-async: accepted as a job to poll."},
        422: {"model": ErrorRead, "description": "The members do not form the structure (gaps, sums, spans)."},
    },
)
async def create_structure_forecast(
    name: Name,
    body: StructureForecastCreate,
    request: Request,
    store: StoreDep,
    service: ServiceDep,
    jobs: JobsDep,
    prefer: PreferHeader = None,
) -> StructureForecastRead | Response:
    """Forecast a stored structure coherently: aggregates equal their parts' sums, shares sum to 1.

    With ``Prefer: respond-async``, answer 202 at once with a durable job whose progress counts
    the series fitted (re-run if its server stops), and whose result is this answer.
    """
    if prefers_async(prefer):
        n_series = await run_in_threadpool(
            check_structure_forecast, store, service.limits, name, body.horizon, body.levels
        )
        job = StructureJobCreate(name=name, forecast=body)
        return accepted(await run_in_threadpool(jobs.submit, STRUCTURE_FORECAST, job, n_series))
    forecast = await _forecast(name, body, request, store, service, None)
    return client_gone_response() if forecast is None else structure_forecast_to_read(forecast)


@router.post(
    "/{name}/forecasts/{series_id}",
    response_model=StructureMemberForecastRead,
    responses={
        404: {"model": ErrorRead, "description": "No structure of that name, or the series is not one of its nodes."},
        422: {"model": ErrorRead, "description": "The members do not form the structure (gaps, sums, spans)."},
    },
)
async def create_structure_member_forecast(
    name: Name, series_id: NodeId, body: StructureForecastCreate, request: Request, store: StoreDep, service: ServiceDep
) -> StructureMemberForecastRead | Response:
    """Forecast one series as its structure shows it: the coherent figures, labelled (not its own forecast)."""
    forecast = await _forecast(name, body, request, store, service, series_id)
    return client_gone_response() if forecast is None else structure_member_to_read(forecast, series_id)
