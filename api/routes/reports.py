"""Scheduled reports: definitions, runs now, run history and the rendered HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SettingsDep
from api.schemas import AwareInstant, ErrorRead
from reports.definitions import DEFAULT_SCHEDULE, ReportDefinition
from reports.jobs import run_report
from reports.scheduler import previous_fire_time, stored_trigger
from reports.store import ReportRun, ReportStore, StoredDefinition

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["reports"])

_STRICT = ConfigDict(extra="forbid")
ReportName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report as one HTML page."}


def get_reports(request: Request) -> ReportStore:
    """The report store on the app's series store database."""
    return ReportStore.for_store(request.app.state.store)


ReportsDep = Annotated[ReportStore, Depends(get_reports)]


class ReportUpdate(BaseModel):
    """A report definition (everything but its name)."""

    model_config = _STRICT

    title: str = Field("", max_length=300)
    description: str = Field("", max_length=2000)
    series_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]] = Field(
        default_factory=list, max_length=200
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Series carrying all these tags are included.")
    horizon: int = Field(6, ge=1, le=120)
    levels: list[Annotated[int, Field(ge=1, le=99)]] = Field(default_factory=lambda: [80, 95], min_length=1)
    model: str = Field("auto", description="Registered model name (GET /v1/models).")
    schedule: str | None = Field(
        DEFAULT_SCHEDULE,
        description=(
            "Cron: 'minute hour day month day_of_week' (0/7 = Sunday; six fields put seconds first), "
            "or null for on-demand only. As in Vixie cron, when both day and day_of_week are restricted "
            "a day matching either fires ('0 7 1 * 1' = the 1st of each month and every Monday); when "
            "one starts with '*' both must match. A schedule that matches no date ('0 0 30 2 *') is "
            "refused with 422 schedule_never_fires."
        ),
    )
    timezone: str = Field("UTC", description="IANA time zone of the schedule.")
    formats: list[str] = Field(default_factory=lambda: ["html"])
    enabled: bool = True


class ReportCreate(ReportUpdate):
    """A new report definition."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)


class ReportRead(ReportCreate):
    """A stored report definition with its timestamps and next scheduled run."""

    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    updated_at: datetime
    last_scheduled_at: datetime | None = Field(None, description="Latest cron time at or before now.")
    next_run_at: datetime | None = Field(None, description="Next cron time, if scheduled and enabled.")


class ReportsPage(BaseModel):
    """All report definitions."""

    data: list[ReportRead]
    count: int


class ReportRunCreate(BaseModel):
    """Run a report now, with the data known at ``as_of`` (default: now)."""

    model_config = _STRICT

    as_of: AwareInstant | None = None
    force: bool = Field(False, description="Redo a run that already succeeded for this as-of time.")


class ReportRunRead(BaseModel):
    """One run of a report (its HTML is at .../runs/{run_id})."""

    run_id: str
    report_name: str
    as_of: datetime
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    n_series: int
    n_failed: int
    error: str | None
    traceback: str | None
    details: dict[str, Any]


class ReportRunsPage(BaseModel):
    """One page of a report's runs, newest first, and the total count."""

    data: list[ReportRunRead]
    count: int


def _to_read(stored: StoredDefinition) -> ReportRead:
    d = stored.definition
    last = nxt = None
    if d.schedule and d.enabled:
        trigger = stored_trigger(d.name, d.schedule, d.timezone)
        now = datetime.now(stored.updated_at.tzinfo)
        if trigger is not None:
            last = previous_fire_time(trigger, now)
            nxt = trigger.get_next_fire_time(None, now)
    return ReportRead(
        **d.to_dict(),
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        last_scheduled_at=last,
        next_run_at=nxt,
    )


def _to_run(run: ReportRun) -> ReportRunRead:
    return ReportRunRead(**run.__dict__)


def _definition(name: str, body: ReportUpdate) -> ReportDefinition:
    return ReportDefinition.from_dict({**body.model_dump(exclude={"name"}), "name": name})


@router.post("", response_model=ReportRead, status_code=status.HTTP_201_CREATED, responses={409: {"model": ErrorRead}})
def create_report(body: ReportCreate, reports: ReportsDep) -> ReportRead:
    """Create a report definition."""
    return _to_read(reports.create_definition(_definition(body.name, body)))


@router.get("", response_model=ReportsPage)
def read_reports(reports: ReportsDep) -> ReportsPage:
    """List every report definition."""
    data = [_to_read(d) for d in reports.list_definitions()]
    return ReportsPage(data=data, count=len(data))


@router.get("/{name}", response_model=ReportRead)
def read_report(name: ReportName, reports: ReportsDep) -> ReportRead:
    """Read one report definition."""
    return _to_read(reports.get_definition(name))


@router.put("/{name}", response_model=ReportRead)
def update_report(name: ReportName, body: ReportUpdate, reports: ReportsDep) -> ReportRead:
    """Replace a report definition."""
    return _to_read(reports.update_definition(_definition(name, body)))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_report(name: ReportName, reports: ReportsDep) -> Response:
    """Delete a report definition and its runs."""
    reports.delete_definition(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/runs", response_model=ReportRunRead, status_code=status.HTTP_201_CREATED)
def create_report_run(
    name: ReportName, request: Request, settings: SettingsDep, body: ReportRunCreate | None = None
) -> ReportRunRead:
    """Run a report now (returns the stored run if this as-of time already ran)."""
    body = body or ReportRunCreate(as_of=None, force=False)
    options = settings.reports
    with options.backend():
        run = run_report(
            name,
            body.as_of,
            request.app.state.store,
            trigger="api",
            force=body.force,
            report_dir=options.report_dir,
            backtest_windows=options.backtest_windows,
            n_jobs=options.n_jobs,
            stale_after_seconds=options.stale_after_seconds,
        )
    return _to_run(run)


@router.get("/{name}/runs", response_model=ReportRunsPage)
def read_report_runs(
    name: ReportName,
    reports: ReportsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReportRunsPage:
    """History of a report's runs: status, duration, error."""
    reports.get_definition(name)
    runs, total = reports.list_runs(name, limit=limit, offset=offset)
    return ReportRunsPage(data=[_to_run(r) for r in runs], count=total)


@router.get("/{name}/runs/latest", response_class=HTMLResponse, responses={200: _HTML})
def read_latest_report_run(name: ReportName, reports: ReportsDep) -> HTMLResponse:
    """The HTML of the latest successful run of a report."""
    reports.get_definition(name)
    return HTMLResponse(reports.get_html(reports.latest_run(name).run_id))


@router.get("/{name}/runs/{run_id}", response_class=HTMLResponse, responses={200: _HTML})
def read_report_run(name: ReportName, run_id: RunId, reports: ReportsDep) -> HTMLResponse:
    """The HTML of one run of a report."""
    return HTMLResponse(reports.get_html(reports.get_run(name, run_id).run_id))
