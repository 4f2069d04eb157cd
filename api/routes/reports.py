"""Scheduled reports: definitions, runs (as background jobs), run records, the rendered HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_serializer

from api.auth import has_write_scope
from api.deps import SettingsDep
from api.schemas import AwareInstant, ErrorRead, Horizon
from api.service import reports as report_service
from api.service.reports import ReportRunner, RunRecord
from api.settings import Settings
from reports.definitions import DEFAULT_SCHEDULE
from reports.delivery import redact_url
from reports.delivery_log import DeliveryRecord
from reports.pdf import html_to_pdf
from reports.scheduler import previous_fire_time, stored_trigger
from reports.store import ReportRun, ReportStore, StoredDefinition

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["reports"])

_STRICT = ConfigDict(extra="forbid")
ReportName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report as one HTML page."}
_PDF = {
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "description": "The report as a PDF document (A4).",
}


def get_reports(request: Request) -> ReportStore:
    """The report store on the app's series store database."""
    return ReportStore.for_store(request.app.state.store)


ReportsDep = Annotated[ReportStore, Depends(get_reports)]


def get_report_runner(request: Request) -> ReportRunner:
    """The app's background runner of report runs."""
    runner: ReportRunner = request.app.state.report_runner
    return runner


RunnerDep = Annotated[ReportRunner, Depends(get_report_runner)]


class ReportDelivery(BaseModel):
    """Where each successful run is sent."""

    model_config = _STRICT

    emails: list[Annotated[str, Field(max_length=254)]] = Field(
        default_factory=list,
        max_length=50,
        description="Recipients of an e-mail with the report as HTML body and attachment (needs TRADECAST_SMTP_HOST).",
    )
    webhook_url: str | None = Field(
        None,
        max_length=2000,
        description="http(s) URL that receives a signed JSON POST per run (needs TRADECAST_WEBHOOK_SECRET); "
        "verify X-Tradecast-Signature as the README explains.",
    )


class SeriesOptions(BaseModel):
    """Options of one series in a report; every field is optional (unset fields are left out).

    Values are checked by the report definition's own validation (422 ``invalid_parameter``
    naming ``series_options[<id>].<option>``), the same for REST and the command line.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "auto",
                    "drivers": {"brent": "brent_usd"},
                    "events": [{"ds": "2022-03", "type": "level_shift"}],
                    "scenarios": {"oil_60": {"brent": "brent_60"}, "oil_90": {"brent": "brent_90"}},
                    "driver_uncertainty": False,
                }
            ]
        },
    )

    missing: str | None = Field(
        None, description="'error' (default) or 'model': fit through gaps with a model that skips them (no backtest)."
    )
    kind: str | None = Field(None, description="'level' or 'share', instead of the stored kind.")
    model: str | None = Field(None, description="A registered model, instead of the report's.")
    check_breaks: str | None = Field(None, description="'true': a note when the history has a structural break.")
    drivers: list[str] | dict[str, str] | None = Field(
        None,
        description="Stored series used as drivers (regressors), read at the run's as-of time: a list of ids "
        "(each driver named by its id) or driver name -> series id. They must cover the series' history; over "
        "the horizon, a driver whose stored values stop early is forecast by its own model ('auto') and the "
        "report says so. Needs a model that takes drivers ('auto', 'regression_arima', 'structural').",
    )
    events: list[dict[str, Any]] | None = Field(
        None,
        description="Known events as in POST /v1/forecasts: {'ds': '2022-03', 'type': 'level_shift'} (types "
        "level_shift, pulse, ramp with 'end', seasonal_change; optional 'name').",
    )
    scenarios: dict[str, dict[str, str]] | None = Field(
        None,
        description="Scenario name -> {driver name -> stored series holding that driver's path over the horizon}: "
        "the report shows a scenario table, one fan chart per scenario and an Excel 'scenarios' sheet.",
    )
    driver_uncertainty: bool | None = Field(
        None, description="With scenarios: add the drivers' own forecast errors to the intervals (wider)."
    )

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: Any) -> Any:
        return {k: v for k, v in handler(self).items() if v is not None}


class ReportUpdate(BaseModel):
    """A report definition (everything but its name)."""

    model_config = _STRICT

    title: str = Field("", max_length=300)
    description: str = Field("", max_length=2000)
    series_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]] = Field(
        default_factory=list, max_length=200
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Series carrying all these tags are included.")
    horizon: Horizon = Field(6, ge=1, le=120)
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
    formats: list[str] = Field(
        default_factory=lambda: ["html"],
        description="Files written per run to the report directory: 'html' (always), 'pdf', 'xlsx'.",
    )
    enabled: bool = Field(True, strict=True)  # 0 or "no" is refused, not read as false
    delivery: ReportDelivery | None = Field(None, description="E-mail recipients and/or a webhook; null: none.")
    series_options: dict[str, SeriesOptions] = Field(
        default_factory=dict,
        description=(
            "Per-series options by series id: 'missing', 'kind', 'model', 'check_breaks', and stored series as "
            "'drivers' with known 'events' and 'scenarios' of the drivers (see the SeriesOptions schema)."
        ),
    )
    structures: list[str] = Field(
        default_factory=list,
        description="Stored structures (/v1/structures) shown after the series as coherent tables and charts.",
    )


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


class DeliveryRead(BaseModel):
    """One delivery of a run on one channel (the webhook URL without its query)."""

    channel: str = Field(description="email or webhook")
    target: str
    status: str = Field(description="pending (the run is working), sent, failed, or skipped (the run failed)")
    attempts: int
    error: str | None
    created_at: datetime


class ReportRunRead(BaseModel):
    """One run of a report: status, timings, error, deliveries (its HTML is at .../runs/{run_id})."""

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
    error: str | None = Field(description="Why the run failed, in words; details stay in the server log.")
    details: dict[str, Any]
    deliveries: list[DeliveryRead] = Field(default_factory=list, description="The delivery log of this run.")


class ReportRunsPage(BaseModel):
    """One page of a report's runs, newest first, and the total count."""

    data: list[ReportRunRead]
    count: int


def _to_read(stored: StoredDefinition, settings: Settings, *, full_url: bool = True) -> ReportRead:
    """The definition as a client reads it; ``full_url=False`` (a read-scope key) redacts the
    webhook URL's query, where receivers put their tokens."""
    d = stored.definition
    last = nxt = None
    if d.schedule and d.enabled:
        trigger = stored_trigger(d.name, d.schedule, d.timezone, seconds=settings.schedule_seconds)
        now = datetime.now(stored.updated_at.tzinfo)
        if trigger is not None:
            last = previous_fire_time(trigger, now)
            nxt = trigger.get_next_fire_time(None, now)
    shown = d.to_dict()
    if not full_url and d.delivery is not None and d.delivery.webhook_url:
        shown["delivery"] = {**shown["delivery"], "webhook_url": redact_url(d.delivery.webhook_url)}
    return ReportRead(
        **shown,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        last_scheduled_at=last,
        next_run_at=nxt,
    )


def _to_run(run: ReportRun, deliveries: list[DeliveryRecord] | None = None) -> ReportRunRead:
    # The traceback stays in the server log and the database: clients get the error in words.
    fields = {k: v for k, v in run.__dict__.items() if k != "traceback"}
    return ReportRunRead(**fields, deliveries=[DeliveryRead(**d.__dict__) for d in deliveries or []])


def _to_record(record: RunRecord) -> ReportRunRead:
    return _to_run(record.run, record.deliveries)


def _spec(name: str, body: ReportUpdate) -> dict[str, Any]:
    return {**body.model_dump(exclude={"name"}), "name": name}


@router.post("", response_model=ReportRead, status_code=status.HTTP_201_CREATED, responses={409: {"model": ErrorRead}})
def create_report(body: ReportCreate, request: Request, settings: SettingsDep) -> ReportRead:
    """Create a report definition (its series must be stored, its delivery configured)."""
    stored = report_service.create_report(
        request.app.state.store, _spec(body.name, body), settings.delivery, seconds=settings.schedule_seconds
    )
    return _to_read(stored, settings)


@router.get("", response_model=ReportsPage)
def read_reports(request: Request, settings: SettingsDep) -> ReportsPage:
    """List every report definition."""
    full = has_write_scope(request)
    data = [_to_read(d, settings, full_url=full) for d in report_service.list_reports(request.app.state.store)]
    return ReportsPage(data=data, count=len(data))


@router.get("/{name}", response_model=ReportRead)
def read_report(name: ReportName, request: Request, settings: SettingsDep) -> ReportRead:
    """Read one report definition."""
    stored = report_service.read_report(request.app.state.store, name)
    return _to_read(stored, settings, full_url=has_write_scope(request))


@router.put("/{name}", response_model=ReportRead)
def update_report(name: ReportName, body: ReportUpdate, request: Request, settings: SettingsDep) -> ReportRead:
    """Replace a report definition."""
    stored = report_service.update_report(
        request.app.state.store, _spec(name, body), settings.delivery, seconds=settings.schedule_seconds
    )
    return _to_read(stored, settings)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_report(name: ReportName, request: Request) -> Response:
    """Delete a report definition, its runs and their delivery log."""
    report_service.delete_report(request.app.state.store, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{name}/runs",
    response_model=ReportRunRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": ReportRunRead, "description": "This as-of time already ran: the stored run."}},
)
def create_report_run(
    name: ReportName, response: Response, runner: RunnerDep, body: ReportRunCreate | None = None
) -> ReportRunRead:
    """Start a report run in the background; poll the run record at the Location header."""
    body = body or ReportRunCreate(as_of=None, force=False)
    record, in_progress = report_service.start_report_run(runner, name, body.as_of, force=body.force)
    response.headers["Location"] = f"/v1/reports/{name}/runs/{record.run.run_id}/record"
    response.status_code = status.HTTP_202_ACCEPTED if in_progress else status.HTTP_200_OK
    return _to_record(record)


@router.get("/{name}/runs", response_model=ReportRunsPage)
def read_report_runs(
    name: ReportName,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReportRunsPage:
    """History of a report's runs: status, duration, error, deliveries."""
    records, total = report_service.list_run_records(request.app.state.store, name, limit=limit, offset=offset)
    return ReportRunsPage(data=[_to_record(r) for r in records], count=total)


@router.get("/{name}/runs/{run_id}/record", response_model=ReportRunRead)
def read_report_run_record(name: ReportName, run_id: RunId, request: Request) -> ReportRunRead:
    """Status, error and delivery log of one run of a report."""
    return _to_record(report_service.read_run_record(request.app.state.store, name, run_id))


@router.get("/{name}/runs/latest", response_class=HTMLResponse, responses={200: _HTML})
def read_latest_report_run(name: ReportName, reports: ReportsDep) -> HTMLResponse:
    """The HTML of the latest successful run of a report."""
    reports.get_definition(name)
    return HTMLResponse(reports.get_html(reports.latest_run(name).run_id))


@router.get("/{name}/runs/{run_id}", response_class=HTMLResponse, responses={200: _HTML})
def read_report_run(name: ReportName, run_id: RunId, reports: ReportsDep) -> HTMLResponse:
    """The HTML of one run of a report."""
    return HTMLResponse(reports.get_html(reports.get_run(name, run_id).run_id))


def _pdf(html: str, name: str, run_id: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}-{run_id}.pdf"'}
    return Response(html_to_pdf(html), media_type="application/pdf", headers=headers)


@router.get("/{name}/runs/latest/pdf", response_class=Response, responses={200: _PDF})
def read_latest_report_run_pdf(name: ReportName, reports: ReportsDep) -> Response:
    """The latest successful run of a report as PDF."""
    reports.get_definition(name)
    run_id = reports.latest_run(name).run_id
    return _pdf(reports.get_html(run_id), name, run_id)


@router.get("/{name}/runs/{run_id}/pdf", response_class=Response, responses={200: _PDF})
def read_report_run_pdf(name: ReportName, run_id: RunId, reports: ReportsDep) -> Response:
    """One run of a report as PDF."""
    return _pdf(reports.get_html(reports.get_run(name, run_id).run_id), name, run_id)
