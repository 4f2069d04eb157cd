"""``tradecast load``, ``series list|show``, ``load-samples`` and ``prune``: the series store."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from api.settings import Settings
    from data import Store, VintageInfo

__all__ = ["open_cli_store", "read_settings", "register"]

logger = logging.getLogger(__name__)

series_app = typer.Typer(rich_markup_mode=None, help="Inspect stored series.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach ``load``, ``load-samples``, ``prune`` and the ``series`` group to the main command."""
    app.command("load")(load)
    app.command("load-samples")(load_samples)
    app.command("prune")(prune)
    app.add_typer(series_app, name="series")


def read_settings(*, cached: bool = False) -> Settings:
    """The settings for a command, or exit 2 with the validation error (never a traceback).

    Commands read afresh (each is one process, and tests change the environment between
    calls); ``serve`` reads the cached settings that its app then reuses.
    """
    from pydantic import ValidationError

    from api.settings import Settings, get_settings

    try:
        return get_settings() if cached else Settings()
    except ValidationError as exc:  # hide_input_in_errors: the message never shows a value
        typer.echo(f"error (invalid_settings): {exc}", err=True)
        raise typer.Exit(code=2) from None


def open_cli_store(settings: Settings | None = None) -> Store:
    """The store the command line works on (from ``settings`` or the environment), schema created."""
    store = (settings or read_settings()).store.open_store()
    store.create_schema()
    return store


def _fail(exc: Exception) -> typer.Exit:
    code = getattr(exc, "code", "error")
    typer.echo(f"error ({code}): {exc}", err=True)
    return typer.Exit(code=1)


def load(
    file: Path = typer.Argument(
        ..., help="CSV, JSON or .xlsx file (long: unique_id,ds,y; wide; Comtrade, IMF, Eurostat)."
    ),
    format: str | None = typer.Option(None, "--format", help="csv, json or xlsx (default: from the name)."),
    kind: str | None = typer.Option(None, "--kind", help="level or share, for every series."),
    frequency: str | None = typer.Option(None, "--frequency", help="annual, quarterly or monthly."),
    release: str | None = typer.Option(None, "--release", help="Release label of the new vintages."),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    allow_negative: bool = typer.Option(
        False, "--allow-negative", help="Accept negative level values (balances); default: refused."
    ),
    series_id: str | None = typer.Option(
        None,
        "--series-id",
        help="Id of the series of a one-series file: one with ds and y columns but no unique_id, or one whose "
        "value header describes the values ('Value (USD millions)').",
    ),
    name: str | None = typer.Option(None, "--name", help="Name of every series (e.g. 'Exports to China')."),
    unit: str | None = typer.Option(None, "--unit", help="Unit of every series (e.g. USD)."),
    layout: str = typer.Option("auto", "--layout", help="auto, long, wide, comtrade, imf, eurostat or fcs."),
    header_row: int = typer.Option(1, "--header-row", help="Line (CSV) or row (Excel) of the column names."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV separator: ',', ';' or a tab."),
    decimal: str | None = typer.Option(None, "--decimal", help="CSV decimal mark ('.' or ',')."),
    scale: str | None = typer.Option(None, "--scale", help="units, thousands, millions or billions."),
    published_at: datetime | None = typer.Option(
        None, "--published-at", help="When the figures were published (UTC); 'as of' reads go by it."
    ),
) -> None:
    """Validate a file and store a new vintage of each series whose data changed."""
    from data import DataError, load_series

    settings = read_settings()
    try:
        result = load_series(
            file,
            format=format,
            kind=kind,
            frequency=frequency,
            sheet=sheet,
            allow_negative=allow_negative,
            series_id=series_id,
            name=name,
            unit=unit,
            max_bytes=settings.store.max_upload_bytes,
            limits=settings.store.upload_limits(),
            scale=scale,
            layout=layout,
            header_row=header_row,
            delimiter=delimiter,
            decimal=decimal,
        )
        store = open_cli_store(settings)
        try:
            infos = store.series.save_ingested(result, release=release, skip_unchanged=True, published_at=published_at)
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    _echo_loaded(file.name, infos)


def _echo_loaded(name: str, infos: list[VintageInfo]) -> None:
    created = sum(1 for i in infos if i.created)
    typer.echo(f"{name}: stored {created} new vintage(s); {len(infos) - created} series unchanged")
    for info in infos[:20]:
        state = "" if info.created else "  unchanged"
        typer.echo(f"  {info.series_id:<40} vintage {info.number:>3}  id {info.vintage_id}  {info.n_obs} obs{state}")
    if len(infos) > 20:
        typer.echo(f"  ... and {len(infos) - 20} more")


def load_samples(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if the store holds any series."),
) -> None:
    """Load the bundled China-Russia samples (idempotent: unchanged series are skipped)."""
    from data import DataError
    from data.samples import load_samples as _load
    from reports import ensure_sample_report

    settings = read_settings()
    try:
        store = open_cli_store(settings)
        try:
            written = _load(store, if_empty=if_empty)
            ensure_sample_report(store, backtest_windows=settings.reports.backtest_windows)
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    typer.echo(f"samples: {len(written)} new vintage(s)")


def prune(
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=1,
        metavar="DAYS",
        help="Delete archived forecasts created more than DAYS days ago (default TRADECAST_FORECAST_RETENTION_DAYS).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
) -> None:
    """Delete old archived forecasts and report runs (series and vintages stay)."""
    from datetime import timedelta

    from data import DataError
    from reports.retention import prune_runs
    from reports.store import ReportStore

    settings = read_settings()
    days = older_than or settings.store.forecast_retention_days
    if days <= 0:
        typer.echo(
            "error: give --older-than DAYS or set TRADECAST_FORECAST_RETENTION_DAYS; nothing was deleted.", err=True
        )
        raise typer.Exit(code=2)
    try:
        store = open_cli_store(settings)
        try:
            count = store.archive.prune_forecasts(timedelta(days=days), dry_run=dry_run)
            # Runs (with their files; the latest successful one of each report stays) have no dry run.
            runs = 0 if dry_run else prune_runs(ReportStore.for_store(store), timedelta(days=days))
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"prune: {verb} {count} archived forecast(s) older than {days} day(s)")
    if not dry_run:
        typer.echo(f"prune: deleted {runs} report run(s) older than {days} day(s)")


@series_app.command("list")
def series_list(
    tag: list[str] = typer.Option([], "--tag", help="Filter KEY=VALUE (repeatable)."),
    limit: int = typer.Option(100, "--limit"),
    offset: int = typer.Option(0, "--offset"),
) -> None:
    """List stored series."""
    from data import DataError

    tags = {}
    for item in tag:
        key, sep, value = item.partition("=")
        if not sep:
            typer.echo(f"error: --tag needs KEY=VALUE; got {item!r}", err=True)
            raise typer.Exit(code=2)
        tags[key] = value
    try:
        store = open_cli_store()
        try:
            metas, total = store.series.list_series(tags=tags or None, limit=limit, offset=offset)
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{total} series" + (f" (showing {len(metas)} from {offset})" if len(metas) < total else ""))
    for m in metas:
        tags_text = " ".join(f"{k}={v}" for k, v in sorted(m.tags.items()))
        typer.echo(f"  {m.series_id:<40} {m.frequency:<9} {m.kind:<5} {m.unit:<9} {tags_text}")


@series_app.command("show")
def series_show(
    series_id: str = typer.Argument(..., help="Series id."),
    as_of: datetime | None = typer.Option(None, "--as-of", help="Show the series as known then (UTC)."),
) -> None:
    """Show a series' metadata, vintages and values (latest or as of a time)."""
    from data import DataError

    try:
        store = open_cli_store()
        try:
            stored = store.series.read_series(series_id, as_of=as_of)
            vintages = store.series.list_vintages(series_id)
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    m, v = stored.meta, stored.vintage
    typer.echo(f"{m.series_id}: {m.name}")
    typer.echo(f"  frequency {m.frequency}, kind {m.kind}, unit {m.unit or '-'}")
    typer.echo("  tags " + (", ".join(f"{k}={val}" for k, val in sorted(m.tags.items())) or "-"))
    typer.echo(
        f"  vintage {v.number} of {len(vintages)} (id {v.vintage_id}, {v.created_at.isoformat()}"
        + (f", published {v.published_at.isoformat()}" if v.published_at else "")
        + (f", release {v.release!r}" if v.release else "")
        + ")"
    )
    for period, value in stored.series.items():
        typer.echo(f"  {period!s:<10} {'' if value != value else f'{value:g}'}")


@series_app.command("diff")
def series_diff(
    series_id: str = typer.Argument(..., help="Series id."),
    from_vintage: int = typer.Argument(
        ..., help="The old data: the series' vintage number (1, 2, ... see 'series show'), else a vintage id."
    ),
    to_vintage: int = typer.Argument(..., help="The new data: a vintage number of the series, else a vintage id."),
) -> None:
    """Show the periods added, removed or changed from one vintage to another."""
    from data import DataError

    try:
        store = open_cli_store()
        try:
            old_id, new_id = (
                store.series.resolve_vintage(series_id, from_vintage),
                store.series.resolve_vintage(series_id, to_vintage),
            )
            frame = store.series.diff_vintages(series_id, old_id, new_id)
        finally:
            store.dispose()
    except DataError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"{series_id}: vintage {from_vintage} -> {to_vintage} (ids {old_id} -> {new_id}): {len(frame)} period(s) differ"
    )
    for ds, change, old, new in frame[["ds", "change", "old", "new"]].itertuples(index=False):
        shown = [("" if v != v else f"{v:g}") for v in (old, new)]
        typer.echo(f"  {ds!s:<10} {change:<8} {shown[0]:>14} -> {shown[1]}")
