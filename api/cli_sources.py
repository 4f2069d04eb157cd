"""``tradecast fetch SOURCE QUERY``, ``tradecast sources`` and the ``refresh`` group (scheduled fetches)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from api.settings import Settings
    from data.connectors import SourceOptions
    from data.sources_repo import FetchOutcome

__all__ = ["register", "source_options"]

refresh_app = typer.Typer(
    rich_markup_mode=None,
    help="Fetch source queries on a cron schedule (list, add, delete, run now).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Attach ``fetch``, ``sources`` and the ``refresh`` group to the main command."""
    app.command("fetch")(fetch)
    app.command("sources")(sources)
    app.add_typer(refresh_app, name="refresh")


def source_options(settings: Settings) -> SourceOptions:
    """The connectors' options from the settings (timeout, Comtrade key)."""
    return settings.sources.options()


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error ({getattr(exc, 'code', 'error')}): {exc}", err=True)
    return typer.Exit(code=1)


def _echo_outcomes(outcomes: list[FetchOutcome]) -> None:
    for o in outcomes:
        what = "new vintage" if o.created else "unchanged, no new vintage"
        typer.echo(f"{o.series_id}: vintage {o.vintage.number} ({what}), {o.vintage.n_obs} observations")


def fetch(
    source: str = typer.Argument(..., help="imf, ecb, comtrade or dbnomics (see `tradecast sources`)."),
    query: str = typer.Argument(..., help="The source's key, e.g. IMF/DOT/A.CN.TXG_FOB_USD.RU for dbnomics."),
    series_id: str | None = typer.Option(None, "--series-id", help="Store under this id (one series only)."),
) -> None:
    """Fetch a query from an official source and store each series as a new vintage if it changed."""
    from api.cli_store import open_cli_store, read_settings
    from data import DataError
    from forecasting.exceptions import ForecastingError

    settings = read_settings()
    store = open_cli_store(settings)
    try:
        result, outcomes = store.sources.fetch_and_store(
            source, query, options=source_options(settings), series_id=series_id
        )
    except (DataError, ForecastingError) as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    typer.echo(f"fetched {len(outcomes)} series from {result.source} at {result.retrieved_at:%Y-%m-%d %H:%M:%S} UTC")
    _echo_outcomes(outcomes)


def sources() -> None:
    """List the official sources and their query syntax."""
    from data.connectors import list_sources

    for name, description in list_sources().items():
        typer.echo(f"{name:<10} {description}")


@refresh_app.command("add")
def refresh_add(
    name: str = typer.Argument(..., help="Refresh name, [A-Za-z0-9_.-]{1,64}."),
    source: str = typer.Argument(..., help="imf, ecb, comtrade or dbnomics."),
    query: str = typer.Argument(..., help="The source's key."),
    schedule: str = typer.Option(..., "--schedule", help="Cron 'minute hour day month day_of_week', e.g. '0 6 * * 1'."),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA time zone of the schedule."),
    series_id: str | None = typer.Option(None, "--series-id", help="Store under this id (one series only)."),
) -> None:
    """Store a source query to fetch on a cron schedule (the service's scheduler runs it)."""
    from api.cli_store import open_cli_store
    from data import DataError
    from data.sources_repo import RefreshDefinition
    from forecasting.exceptions import ForecastingError
    from reports.refresh import create_refresh

    store = open_cli_store()
    try:
        stored = create_refresh(store, RefreshDefinition(name, source, query, schedule, timezone, True, series_id))
    except (DataError, ForecastingError) as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    d = stored.definition
    typer.echo(f"refresh {d.name}: {d.source} {d.query!r} at '{d.schedule}' ({d.timezone})")


@refresh_app.command("list")
def refresh_list() -> None:
    """List the stored refreshes and their last outcome."""
    from api.cli_store import open_cli_store

    store = open_cli_store()
    try:
        stored = store.sources.list_refreshes()
    finally:
        store.dispose()
    if not stored:
        typer.echo("no refreshes; add one with `tradecast refresh add NAME SOURCE QUERY --schedule CRON`")
    for s in stored:
        d = s.definition
        last = f"{s.last_status} {s.last_run_at:%Y-%m-%d %H:%M}" if s.last_run_at else "never run"
        typer.echo(f"{d.name}  {d.source} {d.query}  '{d.schedule}' ({d.timezone})  {last}")


@refresh_app.command("delete")
def refresh_delete(name: str = typer.Argument(..., help="Refresh name.")) -> None:
    """Delete a refresh (the vintages it fetched stay)."""
    from api.cli_store import open_cli_store
    from data import DataError

    store = open_cli_store()
    try:
        store.sources.delete_refresh(name)
    except DataError as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    typer.echo(f"deleted refresh {name}")


@refresh_app.command("run")
def refresh_run(name: str = typer.Argument(..., help="Refresh name.")) -> None:
    """Run a refresh now: fetch, store changed series, run the reports that use them."""
    from api.cli_store import open_cli_store, read_settings
    from data import DataError
    from forecasting.exceptions import ForecastingError
    from reports.refresh import run_refresh

    settings = read_settings()
    store = open_cli_store(settings)
    try:
        result = run_refresh(name, store, options=settings.reports, sources=source_options(settings))
    except (DataError, ForecastingError) as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    _echo_outcomes(result.fetched)
    for run in result.reports:
        typer.echo(f"report {run.report_name}: run {run.run_id} {run.status}")
    if not result.changed:
        typer.echo("no series changed; no report run")
