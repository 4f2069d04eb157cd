"""``tradecast report create|list|show|run|delete``: reports from the command line.

Each command is a thin shell over :mod:`api.service.reports`, the functions the REST routes
call, so a definition is checked the same way on both surfaces (unknown series, a bad or
never-firing cron, an unknown model, a delivery channel the settings cannot serve are
refused when the report is created). ``run`` works in this process and waits, which is
what system cron wants; the REST service runs reports in the background instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from api.service.reports import RunRecord
    from data import Store
    from reports.store import StoredDefinition

__all__ = ["register"]

report_app = typer.Typer(
    rich_markup_mode=None, help="Create, list, show, run and delete scheduled forecast reports.", no_args_is_help=True
)
_T = TypeVar("_T")


def register(app: typer.Typer) -> None:
    """Attach the ``report`` group to the main command."""
    app.add_typer(report_app, name="report")


def _refuse(message: str, code: str = "invalid_argument", exit_code: int = 2) -> typer.Exit:
    typer.echo(f"error ({code}): {message}", err=True)
    return typer.Exit(code=exit_code)


def _parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"--as-of must be an ISO date or date-time such as 2024-01-15 or 2024-01-15T07:00+03:00; got {text!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@contextmanager
def _opened_store() -> Iterator[Store]:
    from api.cli_store import read_settings

    store = read_settings().store.open_store()
    try:
        store.create_schema()
        yield store
    finally:
        store.dispose()


def _call(action: Callable[[Store], _T], *, exit_code: int = 2) -> _T:
    """Run ``action`` on the opened store; our errors become one line and ``exit_code``."""
    from data import DataError
    from forecasting.exceptions import ForecastingError

    try:
        with _opened_store() as store:
            return action(store)
    except (ForecastingError, DataError) as exc:
        raise _refuse(str(exc), str(getattr(exc, "code", "error")), exit_code) from None


# -- create ------------------------------------------------------------------------------


def _spec_from_options(name: str, options: dict[str, Any], file: Path | None) -> dict[str, Any]:
    """The definition mapping: the JSON file's (if any), then the options given on top."""
    spec: dict[str, Any] = {}
    if file is not None:
        try:
            spec = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _refuse(f"--file {str(file)!r} is not a readable JSON definition: {exc}") from None
        if not isinstance(spec, dict):
            raise _refuse(f"--file {str(file)!r} must hold a JSON object (a report definition).")
    spec["name"] = name
    for key, value in options.items():
        if value not in (None, (), []):
            spec[key] = value
    return spec


def _tags(items: list[str]) -> dict[str, str] | None:
    pairs = [item.partition("=") for item in items]
    bad = [item for item, (key, eq, value) in zip(items, pairs, strict=True) if not (key and eq and value)]
    if bad:
        raise _refuse(f"--tag takes KEY=VALUE; got {bad!r}.")
    return {key: value for key, _, value in pairs} or None


def _levels(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise _refuse(f"--levels must be comma-separated whole percents such as 80,95; got {text!r}.") from None


@report_app.command("create")
def report_create(
    name: str = typer.Argument(..., help="Report name: lowercase letters, digits, '-' or '_'."),
    series: list[str] = typer.Option([], "--series", help="A stored series id (repeat for several)."),
    tag: list[str] = typer.Option([], "--tag", help="KEY=VALUE: also every series carrying all these tags."),
    title: str | None = typer.Option(None, "--title", help="Heading of the report (default: its name)."),
    description: str | None = typer.Option(None, "--description", help="Text under the title."),
    horizon: int | None = typer.Option(None, "--horizon", help="Periods ahead (default 6)."),
    levels: str | None = typer.Option(None, "--levels", help="Interval levels in percent (default 80,95)."),
    model: str | None = typer.Option(None, "--model", help="A registered model (default auto)."),
    schedule: str | None = typer.Option(
        None, "--schedule", help="Cron 'minute hour day month day_of_week' (default '0 7 * * 1'); 'none': on demand."
    ),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA time zone of the schedule (default UTC)."),
    email: list[str] = typer.Option([], "--email", help="Send each run to this address (repeat for several)."),
    webhook: str | None = typer.Option(None, "--webhook", help="POST a signed JSON notice of each run here."),
    formats: list[str] = typer.Option([], "--format", help="An output format besides HTML (repeat for several)."),
    disabled: bool = typer.Option(False, "--disabled", help="Store it without scheduling it."),
    file: Path | None = typer.Option(None, "--file", help="A JSON definition (the REST body); options override it."),
) -> None:
    """Create a report definition; it is checked now (series, schedule, model, delivery)."""
    from api.cli_store import read_settings
    from api.service.reports import create_report

    options: dict[str, Any] = {
        "series_ids": series,
        "tags": _tags(tag),
        "title": title,
        "description": description,
        "horizon": horizon,
        "levels": _levels(levels),
        "model": model,
        "timezone": timezone,
        "formats": list(dict.fromkeys(["html", *formats])) if formats else None,
        "enabled": False if disabled else None,
    }
    if email or webhook:
        options["delivery"] = {"emails": email, "webhook_url": webhook}
    spec = _spec_from_options(name, options, file)
    if schedule is not None:
        spec["schedule"] = None if schedule.strip().lower() == "none" else schedule
    spec = _checked_body(spec)
    delivery = read_settings().delivery
    stored = _call(lambda store: create_report(store, spec, delivery))
    typer.echo(f"report {stored.definition.name} created; {_schedule_text(stored)}")


def _checked_body(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` checked by REST's own schema (:class:`api.schemas.ReportCreate`), as the REST route takes it:
    a value the schema refuses (``series_options.<id>.missing: "fill"``) is the same ``validation_error``."""
    from pydantic import ValidationError

    from api.cli_forecast import refuse_invalid_body
    from api.schemas import ReportCreate

    try:
        body = ReportCreate.model_validate(spec)
    except ValidationError as exc:
        raise refuse_invalid_body(exc) from None
    return {**body.model_dump(exclude={"name"}), "name": body.name}


# -- list, show, delete ------------------------------------------------------------------


def _schedule_text(stored: StoredDefinition) -> str:
    d = stored.definition
    text = f"runs {d.schedule} ({d.timezone})" if d.schedule else "runs on demand"
    return text if d.enabled else f"{text} [disabled]"


@report_app.command("list")
def report_list() -> None:
    """List report definitions with their schedule and latest run."""
    from api.service.reports import list_reports
    from reports.store import ReportStore

    def rows(store: Store) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for stored in list_reports(store):
            d = stored.definition
            runs, total = ReportStore.for_store(store).list_runs(d.name, limit=1)
            last = f"{runs[0].status} {runs[0].as_of:%Y-%m-%d %H:%M}" if runs else "never run"
            schedule = f"{d.schedule} ({d.timezone})" if d.schedule else "on demand"
            out.append((d.name, schedule if d.enabled else f"{schedule} [disabled]", str(total), last, d.title))
        return out

    found = _call(rows)
    if not found:
        typer.echo("no reports; `tradecast load-samples` creates the sample report china-russia")
        return
    header = ("NAME", "SCHEDULE", "RUNS", "LATEST RUN", "TITLE")
    widths = [max(len(r[i]) for r in [header, *found]) for i in range(4)]
    for row in [header, *found]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])


@report_app.command("show")
def report_show(
    name: str = typer.Argument(..., help="Report name."),
    run: str | None = typer.Option(None, "--run", help="Show this run (its status, error and delivery log)."),
    runs: int = typer.Option(5, "--runs", min=0, max=500, help="How many recent runs to list."),
) -> None:
    """Show a report definition and its recent runs, or one run with its delivery log."""
    from api.service.reports import read_report, read_run_record
    from reports.store import ReportStore

    if run is not None:
        record = _call(lambda store: read_run_record(store, name, run))
        _echo_record(record)
        return

    def read(store: Store) -> tuple[StoredDefinition, list[Any]]:
        stored = read_report(store, name)
        return stored, ReportStore.for_store(store).list_runs(name, limit=runs)[0] if runs else []

    stored, recent = _call(read)
    typer.echo(json.dumps(stored.definition.to_dict(), indent=2))
    typer.echo(_schedule_text(stored))
    for item in recent:
        typer.echo(f"run {item.run_id}  {item.status:<9}  as of {item.as_of:%Y-%m-%d %H:%M}  ({item.trigger})")


def _echo_record(record: RunRecord) -> None:
    run = record.run
    typer.echo(
        f"report {run.report_name}: run {run.run_id} {run.status} (as of {run.as_of.isoformat()}, "
        f"{run.n_series} series, {run.n_failed} without forecast, {run.duration_s or 0:.1f} s)"
    )
    if run.details.get("file"):
        typer.echo(f"html: {run.details['file']}")
    for fmt, path in run.details.get("files", {}).items():
        typer.echo(f"{fmt}: {path}")
    for fmt, problem in run.details.get("format_errors", {}).items():
        typer.echo(f"no {fmt}: {problem}", err=True)
    if run.error:
        typer.echo(f"error: {run.error}")
    for d in record.deliveries:
        note = f": {d.error}" if d.error else ""
        typer.echo(f"delivery {d.channel} to {d.target}: {d.status} after {d.attempts} attempt(s){note}")


@report_app.command("delete")
def report_delete(
    name: str = typer.Argument(..., help="Report name."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete a report definition, its runs and their delivery log."""
    from api.service.reports import delete_report

    if not yes:
        typer.confirm(f"delete report {name!r} and all its runs?", abort=True)
    _call(lambda store: delete_report(store, name))
    typer.echo(f"report {name} deleted")


# -- run ---------------------------------------------------------------------------------


@report_app.command("run")
def report_run(
    name: str = typer.Argument(..., help="Report name (see `tradecast report list`)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Data cut-off, ISO date/time (UTC if no offset); default now."
    ),
    force: bool = typer.Option(False, "--force", help="Redo a run that already succeeded for this as-of time."),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="Draw a progress bar on stderr (series done / total, failures, time left); default: on a terminal.",
    ),
) -> None:
    """Run a report now, store it and deliver it; exits 1 if the run failed."""
    from api.cli_store import read_settings
    from api.progress_bar import progress_bar, wants_progress
    from api.service.reports import read_running_progress, run_report_now
    from reports.store import PRODUCED

    # The as-of time is fixed here so that the bar can find the run it is waiting for.
    when = _parse_as_of(as_of) or datetime.now(UTC)
    options = read_settings().reports

    def run(store: Store) -> RunRecord:
        with progress_bar(lambda: read_running_progress(store, name, when), enabled=wants_progress(progress)):
            return run_report_now(store, name, when, options, force=force)

    record = _call(run, exit_code=1)
    _echo_record(record)
    if record.run.status not in PRODUCED:
        raise typer.Exit(code=1)
