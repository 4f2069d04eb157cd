"""``tradecast forecast-batch``: many series forecast with the same settings, with a progress bar.

A thin shell over the service that ``POST /v1/forecasts/batch`` and batch jobs call: the
series (``--series``, repeated, or ``--all`` stored series) and the options become the body of
``POST /v1/forecasts/batch`` (:class:`api.schemas.BatchForecastCreate`, one item per series
with the per-series options ``--kind``, ``--missing``, ``--drivers``, ``--events``,
``--as-of``), or ``--file`` gives that body as REST takes it. The body is validated by the
same schema, converted by the same code and run by
:meth:`~api.service.ForecastService.forecast_batch` in this process (archived like REST's
forecasts; an item lost with its worker is run once more), each series counted on a
progress bar on stderr. A series that fails is an error item, as in REST; the command says
``succeeded``, ``partial`` (some failed) or ``failed`` (all failed: exit status 1). Every
refusal exits with status 2 and one line ``error (<code>): <message>`` with REST's code.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from api.cli_forecast import (
    AS_OF_OPTION,
    DRIVERS_OPTION,
    EVENTS_OPTION,
    FORMATS,
    HORIZON_OPTION,
    KIND_OPTION,
    LEVELS_OPTION,
    MISSING_OPTION,
    MODEL_OPTION,
    TRANSFORM_OPTION,
    drivers_body,
    events_body,
    forecast_csv_rows,
    forecast_table,
    in_process_service,
    parse_levels,
    refuse,
    refuse_invalid_body,
    write_csv,
)
from api.cli_store import open_cli_store, read_settings

if TYPE_CHECKING:
    from api.service import BatchItemResult, BatchRequest
    from api.settings import Settings
    from data import Store

__all__ = ["batch_status", "forecast_batch", "register"]

#: The options that apply to the batch as a whole (REST's top-level fields); with ``--file``,
#: those given on the command line replace the file's.
BATCH_OPTIONS = ("horizon", "levels", "model", "transform")
#: The options that apply to each series (REST's item fields): not with ``--file``.
SERIES_OPTIONS = ("kind", "missing", "drivers", "events", "as_of")


def register(app: typer.Typer) -> None:
    """Attach ``forecast-batch`` to the main command."""
    app.command("forecast-batch")(forecast_batch)


def forecast_batch(
    ctx: typer.Context,
    series: list[str] = typer.Option([], "--series", help="A stored series id (repeat for several)."),
    all_series: bool = typer.Option(False, "--all", help="Every stored series."),
    file: Path | None = typer.Option(
        None,
        "--file",
        help="A JSON file holding the body of POST /v1/forecasts/batch (stored or inline series, each with its own "
        "options); --horizon, --levels, --model and --transform given here replace its values.",
    ),
    horizon: int = HORIZON_OPTION,
    levels: str = LEVELS_OPTION,
    model: str | None = MODEL_OPTION,
    kind: str | None = KIND_OPTION,
    missing: str = MISSING_OPTION,
    transform: str = TRANSFORM_OPTION,
    drivers: str | None = DRIVERS_OPTION,
    events: str | None = EVENTS_OPTION,
    as_of: datetime | None = AS_OF_OPTION,
    format: str = typer.Option(
        "table", "--format", help="table, csv (one long table with a series column) or json (the REST response body)."
    ),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="Draw a progress bar on stderr (series done / total, failures, time left); default: on a terminal.",
    ),
) -> None:
    """Forecast many series as POST /v1/forecasts/batch does (same options, checks and answers; archived in the
    store): stored series named by --series or --all, or a batch body from --file. Prints each forecast and
    each failed series; status partial when some failed, exit status 1 when all failed."""
    if format not in FORMATS:
        raise refuse(f"--format must be one of {', '.join(FORMATS)}; got {format!r}.")
    given = {name for name in (*BATCH_OPTIONS, *SERIES_OPTIONS) if _given(ctx, name)}
    top = {"horizon": horizon, "levels": parse_levels(levels), "model": model, "transform": transform}
    item = {"kind": kind, "missing": missing, "drivers": drivers_body(drivers), "events": events_body(events)}
    item["as_of"] = as_of.isoformat() if as_of is not None else None
    settings = read_settings()
    store = open_cli_store(settings)
    try:
        if file is not None:
            body = _file_body(file, series, all_series, given) | {k: v for k, v in top.items() if k in given}
        else:
            ids = _series_ids(store, series, all_series)
            body = {"series": [{"series_id": series_id, **item} for series_id in ids], **top}
        request = _checked_request(body, settings)
        items = _run(request, store, settings, progress)
    finally:
        store.dispose()
    _echo(items, format)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given (on the command line or by its environment variable)."""
    source = ctx.get_parameter_source(name)  # by name: typer bundles its own click
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _file_body(file: Path, series: list[str], all_series: bool, given: set[str]) -> dict[str, Any]:
    """``--file``: the JSON batch body (its series' options are its own)."""
    if series or all_series:
        raise refuse("--file holds the series of the batch; drop --series and --all, or drop --file.")
    per_series = sorted(name for name in given if name in SERIES_OPTIONS)
    if per_series:
        shown = ", ".join("--" + name.replace("_", "-") for name in per_series)
        raise refuse(f"{shown}: with --file, give each series' options in the file, as REST takes them.")
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise refuse(f"--file {str(file)!r} is not a readable JSON batch body: {exc}", "validation_error") from None
    if not isinstance(body, dict):
        raise refuse(f"--file {str(file)!r} must hold a JSON object (the body of POST /v1/forecasts/batch).")
    return body


def _series_ids(store: Store, series: list[str], all_series: bool) -> list[str]:
    """The stored series named by ``--series`` (in order), then every other stored one with ``--all``."""
    ids = list(series)
    if all_series:
        offset, total = 0, 1
        while offset < total:
            page, total = store.series.list_series(limit=500, offset=offset)
            ids += [meta.series_id for meta in page]
            offset += 500
    ids = list(dict.fromkeys(ids))
    if not ids:
        more = " (none is stored: `tradecast load FILE` stores some)" if all_series else ""
        raise refuse(f"name the series: --series ID (repeat for several), --all or --file BODY.json{more}.")
    return ids


def _checked_request(body: dict[str, Any], settings: Settings) -> BatchRequest:
    """``body`` checked by REST's schema and batch size limit, converted as REST converts it."""
    from pydantic import ValidationError

    from api.convert import batch_request
    from api.jobs import check_batch_size
    from api.schemas import BatchForecastCreate
    from forecasting.exceptions import ForecastingError

    try:
        checked = BatchForecastCreate.model_validate(body)
        check_batch_size(checked, settings)
    except ValidationError as exc:
        raise refuse_invalid_body(exc) from None
    except ForecastingError as exc:
        raise refuse(str(exc), str(getattr(exc, "code", None) or "error")) from None
    return batch_request(checked)


def _run(request: BatchRequest, store: Store, settings: Settings, progress: bool | None) -> list[BatchItemResult]:
    """Forecast the batch in this process, each series counted on the bar as it ends."""
    from api.progress_bar import LocalProgress, progress_bar, wants_progress
    from data import DataError
    from data.progress_repo import FORECAST_BATCH
    from forecasting.exceptions import ForecastingError

    service = in_process_service(settings)
    tracker = LocalProgress(FORECAST_BATCH, "tradecast forecast-batch")
    tracker.begin(len(request.sources))
    try:
        with progress_bar(tracker.read, enabled=wants_progress(progress)):
            return service.forecast_batch(request, store, progress=tracker)
    except (ForecastingError, DataError) as exc:
        raise refuse(str(exc), str(getattr(exc, "code", None) or "error")) from None
    finally:
        service.shutdown()


def batch_status(items: list[BatchItemResult]) -> str:
    """``succeeded`` (every series forecast), ``partial`` (some failed) or ``failed`` (all failed)."""
    failed = sum(1 for item in items if item.result is None)
    return "succeeded" if failed == 0 else ("failed" if failed == len(items) else "partial")


def _label(item: BatchItemResult) -> str:
    return item.label or f"#{item.index}"


def _echo(items: list[BatchItemResult], format: str) -> None:
    """Warnings and failures on stderr, the forecasts on stdout, then the status (exit 1 if all failed)."""
    from api.convert import batch_to_read, error_detail

    status = batch_status(items)
    for item in items:
        if item.result is not None:
            for warned in item.result.warnings:
                typer.echo(f"warning ({warned.code}) {_label(item)}: {warned.message}", err=True)
        else:
            detail = error_detail(item.error or RuntimeError("no result"))
            typer.echo(f"failed {_label(item)}: error ({detail.code}): {detail.message}", err=True)
    done = [item for item in items if item.result is not None]
    if format == "json":
        typer.echo(json.dumps({"status": status, **batch_to_read(items).model_dump(mode="json")}, indent=2))
    elif format == "csv" and done:
        rows = [{"series": _label(it), **row} for it in done if it.result for row in forecast_csv_rows(it.result)]
        typer.echo(write_csv(rows))
    elif done:
        tables = [f"== {_label(it)} ({it.result.model}) ==\n{forecast_table(it.result)}" for it in done if it.result]
        typer.echo("\n\n".join(tables))
    n_failed = len(items) - len(done)
    typer.echo(f"batch {status}: {len(done)} of {len(items)} series forecast, {n_failed} failed", err=True)
    if status == "failed":
        raise typer.Exit(code=1)
