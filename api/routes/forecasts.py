"""Forecasts: run one, run a batch, read archived ones."""

from __future__ import annotations

import threading
import weakref
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.convert import (
    batch_request,
    batch_to_read,
    forecast_request,
    forecast_to_read,
    outlook_to_read,
    record_params_to_read,
)
from api.deps import JobsDep, PreferHeader, ServiceDep, SettingsDep, StoreDep
from api.jobs import accepted, check_batch_size, prefers_async
from api.schemas import (
    BatchForecastCreate,
    BatchForecastRead,
    ErrorRead,
    ForecastCreate,
    ForecastRead,
    ForecastsPage,
    Instant,
    JobRead,
    SeriesId,
)
from api.service import FitOutcome, ForecastResult, ForecastService
from api.service.forecasts import ForecastFit
from api.waiting import await_batch, await_futures, client_gone_response
from data import Store
from data.progress_repo import FORECAST_BATCH
from forecasting.executor import TaskResult

__all__ = ["router"]

router = APIRouter(prefix="/forecasts", tags=["forecasts"])

ForecastId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Archived forecast id.")]


class _Bodies:
    """The JSON body of each forecast result, encoded once while anything holds the result.

    Weak keys: an entry lives as long as the service's cache keeps its result, so this
    needs no eviction policy of its own.
    """

    def __init__(self) -> None:
        self._bodies: weakref.WeakKeyDictionary[ForecastResult, bytes] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, result: ForecastResult) -> bytes:
        with self._lock:
            body = self._bodies.get(result)
        if body is None:
            body = forecast_to_read(result).model_dump_json().encode()
            with self._lock:
                self._bodies[result] = body
        return body


_BODIES = _Bodies()


def _finish_body(service: ForecastService, fit: ForecastFit, outcome: TaskResult[FitOutcome], store: Store) -> bytes:
    return _BODIES.of(service.finish_forecast(fit, outcome, store))


@router.post("", response_model=ForecastRead)
async def create_forecast(body: ForecastCreate, request: Request) -> Response:
    """Forecast a stored or inline series with prediction intervals (cached, archived)."""
    # The hottest route: the app's service and store are read from app.state rather than
    # through Depends (each costs ~0.1 ms to resolve per request).
    state = request.app.state
    service: ForecastService = state.service
    forecast = forecast_request(body)
    # A cache hit is a memory lookup, answered on the event loop; reading the store and
    # archiving run in the threadpool, and the fit itself is awaited on the event loop
    # (no thread waits for it). A full fitting queue answers 503 at once.
    step: ForecastResult | ForecastFit | None = service.cached_forecast(forecast)
    if step is None:
        service.check_room(forecast)  # a full queue refuses inline data here, unparsed
        step = await run_in_threadpool(service.start_forecast, forecast, state.store)
    if isinstance(step, ForecastResult):
        return Response(_BODIES.of(step), media_type="application/json", headers={"X-Cache": "hit"})
    outcomes = await await_futures([step.future], request.is_disconnected)
    if outcomes is None:
        return client_gone_response()
    content = await run_in_threadpool(_finish_body, service, step, outcomes[0], state.store)
    return Response(content, media_type="application/json", headers={"X-Cache": "miss"})


@router.post(
    "/batch",
    response_model=BatchForecastRead,
    responses={202: {"model": JobRead, "description": "Large batch (or Prefer: respond-async) accepted as a job."}},
)
async def create_forecast_batch(
    body: BatchForecastCreate,
    request: Request,
    service: ServiceDep,
    jobs: JobsDep,
    store: StoreDep,
    settings: SettingsDep,
    prefer: PreferHeader = None,
) -> BatchForecastRead | JSONResponse | Response:
    """Forecast many series; above the size threshold (or asked with Prefer: respond-async) answer 202
    with a job to poll."""
    check_batch_size(body, settings)
    if len(body.series) <= settings.batch_sync_limit and not prefers_async(prefer):
        fit = await run_in_threadpool(service.start_batch, batch_request(body), store)
        finished = await await_batch(service, fit, request.is_disconnected)
        if finished is None:
            return client_gone_response()
        items = await run_in_threadpool(service.finish_batch, fit, finished, store)
        return batch_to_read(items)
    return accepted(await run_in_threadpool(jobs.submit, FORECAST_BATCH, body, len(body.series)))


@router.get("", response_model=ForecastsPage)
def read_forecasts(
    store: StoreDep,
    series_id: Annotated[SeriesId | None, Query()] = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> ForecastsPage:
    """List archived forecasts, newest first, a page at a time (``limit``, ``offset``)."""
    records = store.archive.list_forecasts(series_id, model=model, since=since, limit=limit, offset=offset)
    data = [
        record_params_to_read(
            str(r.forecast_id), r.series_id, r.model, r.horizon, r.levels, r.frame, r.params, r.created_at
        ).model_copy(update=outlook_to_read(r.params))
        for r in records
    ]
    return ForecastsPage(data=data, count=store.archive.count_forecasts(series_id, model=model, since=since))


@router.get("/{forecast_id}", response_model=ForecastRead, responses={404: {"model": ErrorRead}})
def read_forecast(forecast_id: ForecastId, store: StoreDep) -> ForecastRead:
    """One archived forecast by id."""
    r = store.archive.get_forecast(forecast_id)
    read = record_params_to_read(
        forecast_id, r.series_id, r.model, r.horizon, r.levels, r.frame, r.params, r.created_at
    )
    return read.model_copy(update=outlook_to_read(r.params))
