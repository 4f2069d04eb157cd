"""Scheduled reports: definitions, runs (as background jobs), run records, the HTML, PDF and workbook.

The routes reach the report package only through :mod:`api.service.reports`; the schemas
are in :mod:`api.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from api.auth import has_write_scope
from api.convert import progress_to_read
from api.deps import SettingsDep
from api.schemas import (
    DeliveryRead,
    ErrorRead,
    ReportCreate,
    ReportRead,
    ReportRunCreate,
    ReportRunLinksRead,
    ReportRunRead,
    ReportRunsPage,
    ReportsPage,
    ReportUpdate,
)
from api.service import reports as report_service
from api.service.reports import ReportRunner, RunFile, RunRecord, StoredDefinition
from api.settings import Settings
from reports.delivery import redact_url

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["reports"])

ReportName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report as one HTML page."}
_PDF = {
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "description": "The report as a PDF document (A4).",
}
_XLSX: dict[str, Any] = {
    "content": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        }
    },
    "description": "The report's workbook (Excel), written when the report's formats include 'xlsx'.",
}
_NO_FILE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorRead, "description": "No such run, or it has no workbook (run_file_not_found)."}
}


def get_report_runner(request: Request) -> ReportRunner:
    """The app's background runner of report runs."""
    runner: ReportRunner = request.app.state.report_runner
    return runner


RunnerDep = Annotated[ReportRunner, Depends(get_report_runner)]


def _to_read(stored: StoredDefinition, settings: Settings, *, full_url: bool = True) -> ReportRead:
    """The definition as a client reads it; ``full_url=False`` (a read-scope key) redacts the
    webhook URL's query, where receivers put their tokens."""
    d = stored.definition
    last, nxt = report_service.report_schedule(stored, seconds=settings.schedule_seconds)
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


def _to_record(record: RunRecord) -> ReportRunRead:
    # The traceback stays in the server log and the database: clients get the error in words.
    run = record.run
    fields = {k: v for k, v in run.__dict__.items() if k != "traceback"}
    base = f"/v1/reports/{run.report_name}/runs/{run.run_id}"
    links = {fmt: base if fmt == "html" else f"{base}/{fmt}" for fmt in record.files}
    return ReportRunRead(
        **fields,
        progress=progress_to_read(record.progress),
        links=ReportRunLinksRead(**links),
        deliveries=[DeliveryRead(**d.__dict__) for d in record.deliveries],
    )


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
def read_latest_report_run(name: ReportName, request: Request) -> HTMLResponse:
    """The HTML of the latest produced run of a report."""
    return HTMLResponse(report_service.read_run_html(request.app.state.store, name))


@router.get("/{name}/runs/{run_id}", response_class=HTMLResponse, responses={200: _HTML})
def read_report_run(name: ReportName, run_id: RunId, request: Request) -> HTMLResponse:
    """The HTML of one run of a report."""
    return HTMLResponse(report_service.read_run_html(request.app.state.store, name, run_id))


def _download(file: RunFile) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
    return Response(file.data, media_type=file.media_type, headers=headers)


@router.get("/{name}/runs/latest/pdf", response_class=Response, responses={200: _PDF})
def read_latest_report_run_pdf(name: ReportName, request: Request) -> Response:
    """The latest produced run of a report as PDF."""
    return _download(report_service.read_run_file(request.app.state.store, name, None, "pdf"))


@router.get("/{name}/runs/{run_id}/pdf", response_class=Response, responses={200: _PDF})
def read_report_run_pdf(name: ReportName, run_id: RunId, request: Request) -> Response:
    """One run of a report as PDF."""
    return _download(report_service.read_run_file(request.app.state.store, name, run_id, "pdf"))


@router.get("/{name}/runs/latest/xlsx", response_class=Response, responses={200: _XLSX, **_NO_FILE})
def read_latest_report_run_xlsx(name: ReportName, request: Request) -> Response:
    """The workbook (XLSX) of the latest produced run of a report."""
    return _download(report_service.read_run_file(request.app.state.store, name, None, "xlsx"))


@router.get("/{name}/runs/{run_id}/xlsx", response_class=Response, responses={200: _XLSX, **_NO_FILE})
def read_report_run_xlsx(name: ReportName, run_id: RunId, request: Request) -> Response:
    """The workbook (XLSX) of one run of a report."""
    return _download(report_service.read_run_file(request.app.state.store, name, run_id, "xlsx"))
