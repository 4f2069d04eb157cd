"""``tradecast report run NAME [--as-of]`` and ``tradecast report list``: reports from system cron."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

__all__ = ["register"]

report_app = typer.Typer(help="Run and list scheduled forecast reports.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the ``report`` group to the main command."""
    app.add_typer(report_app, name="report")


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


@report_app.command("run")
def report_run(
    name: str = typer.Argument(..., help="Report name (see `tradecast report list`)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Data cut-off, ISO date/time (UTC if no offset); default now."
    ),
    force: bool = typer.Option(False, "--force", help="Redo a run that already succeeded for this as-of time."),
) -> None:
    """Run a report now and store it; exits 1 if the run failed."""
    from api.cli_store import read_settings
    from data import DataError
    from forecasting.exceptions import ForecastingError
    from reports.jobs import run_report

    when = _parse_as_of(as_of)
    settings = read_settings()
    options = settings.reports
    store = settings.store.open_store()
    try:
        store.create_schema()
        with options.backend():
            run = run_report(
                name,
                when,
                store,
                trigger="cli",
                force=force,
                report_dir=options.report_dir,
                backtest_windows=options.backtest_windows,
                n_jobs=options.n_jobs,
                stale_after_seconds=options.stale_after_seconds,
            )
    except (DataError, ForecastingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        store.dispose()
    typer.echo(
        f"report {run.report_name}: run {run.run_id} {run.status} (as of {run.as_of.isoformat()}, "
        f"{run.n_series} series, {run.n_failed} without forecast, {run.duration_s or 0:.1f} s)"
    )
    if run.details.get("file"):
        typer.echo(f"html: {run.details['file']}")
    if run.status != "succeeded":
        typer.echo(f"error: {run.error}", err=True)
        raise typer.Exit(code=1)


@report_app.command("list")
def report_list() -> None:
    """List report definitions with their schedule and latest run."""
    from api.cli_store import read_settings
    from reports.store import ReportStore

    store = read_settings().store.open_store()
    try:
        store.create_schema()
        reports = ReportStore.for_store(store)
        definitions = reports.list_definitions()
        rows = []
        for stored in definitions:
            d = stored.definition
            runs, total = reports.list_runs(d.name, limit=1)
            last = f"{runs[0].status} {runs[0].as_of:%Y-%m-%d %H:%M}" if runs else "never run"
            schedule = f"{d.schedule} ({d.timezone})" if d.schedule else "on demand"
            rows.append((d.name, schedule if d.enabled else f"{schedule} [disabled]", str(total), last, d.title))
    finally:
        store.dispose()
    if not rows:
        typer.echo("no reports; `tradecast load-samples` creates the sample report china-russia")
        return
    header = ("NAME", "SCHEDULE", "RUNS", "LATEST RUN", "TITLE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
