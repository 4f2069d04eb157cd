"""``tradecast forecast`` and ``tradecast backtest``: a stored series or a file.

A thin shell over the same service REST calls: the options become the body of
``POST /v1/forecasts`` (or ``/v1/backtests``), validated by the same schema, converted by
the same code and run by the same :class:`~api.service.ForecastService` (in this process;
the forecast is archived in the store like a REST one). A file is read through the same
ingest as ``tradecast load`` and sent as inline data, its absent periods as missing values,
so the same series gives the same answer, or the same error code, from both surfaces. The
result is printed as a table, CSV or the JSON body REST answers. Every refusal exits with
status 2 and one line ``error (<code>): <message>``, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from api.cli_store import open_cli_store, read_settings

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import ValidationError

    from api.service import ForecastService
    from api.service.types import ForecastResult
    from api.settings import Settings

__all__ = [
    "AS_OF_OPTION",
    "DRIVERS_OPTION",
    "EVENTS_OPTION",
    "FORMATS",
    "HORIZON_OPTION",
    "KIND_OPTION",
    "LEVELS_OPTION",
    "MISSING_CHOICES",
    "MISSING_OPTION",
    "MODEL_OPTION",
    "TRANSFORM_OPTION",
    "backtest",
    "drivers_body",
    "events_body",
    "forecast",
    "forecast_csv",
    "forecast_csv_rows",
    "forecast_table",
    "in_process_service",
    "parse_levels",
    "refuse",
    "refuse_invalid_body",
    "register",
    "write_csv",
]

FORMATS = ("table", "csv", "json")

#: ``--missing`` (and REST's ``missing``): refuse gaps, keep the latest unbroken stretch, or
#: fit through them with a model that skips them.
MISSING_CHOICES = ("error", "latest_stretch", "model")

#: How events are written on the command line: ``TYPE:DS`` or ``TYPE:DS:END`` (ramps).
EVENTS_HELP = (
    "Known events, comma-separated TYPE:PERIOD[:END] with TYPE level_shift, pulse, ramp (ends at END) or "
    "seasonal_change, e.g. level_shift:2022,pulse:2020-04; needs a model that takes drivers."
)
DRIVERS_HELP = (
    "Drivers: a CSV file with a ds column and one column per driver (values over the series' periods and the "
    "horizon), or stored series as NAME=SERIES_ID[,NAME=SERIES_ID]; needs a model that takes drivers "
    "(auto, regression_arima, structural)."
)


#: The options ``forecast`` shares with ``forecast-batch`` (:mod:`api.cli_batch`), declared once.
HORIZON_OPTION: Any = typer.Option(12, "--horizon", help="Periods ahead.")
LEVELS_OPTION: Any = typer.Option("80,95", "--levels", help="Interval levels in percent, comma-separated.")
MODEL_OPTION: Any = typer.Option(None, "--model", help="A registered model (default TRADECAST_DEFAULT_MODEL).")
KIND_OPTION: Any = typer.Option(None, "--kind", help="level or share (default: the stored or file kind).")
MISSING_OPTION: Any = typer.Option(
    "error",
    "--missing",
    help="Missing values: error (refuse the series), latest_stretch (fit the latest unbroken stretch, with a "
    "warning) or model (a state-space model skips the gaps: auto, structural, regression_arima).",
)
TRANSFORM_OPTION: Any = typer.Option("none", "--transform", help="none, or log (fit on the log scale; level series).")
DRIVERS_OPTION: Any = typer.Option(None, "--drivers", help=DRIVERS_HELP)
EVENTS_OPTION: Any = typer.Option(None, "--events", help=EVENTS_HELP)
AS_OF_OPTION: Any = typer.Option(None, "--as-of", help="Stored series as known then (UTC).")


def register(app: typer.Typer) -> None:
    """Attach ``forecast`` and ``backtest`` to the main command."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest)


def refuse(message: str, code: str = "invalid_argument") -> typer.Exit:
    """Print ``error (<code>): <message>`` on stderr; the exit (status 2) for the caller to raise."""
    typer.echo(f"error ({code}): {message}", err=True)
    return typer.Exit(code=2)


def refuse_invalid_body(exc: ValidationError) -> typer.Exit:
    """A body the REST schema refuses: the code and first message REST answers (``validation_error``);
    ``tradecast forecast`` and ``tradecast report create`` check their bodies with REST's schemas."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return refuse((f"invalid field '{field}': " if field else "") + message + more, "validation_error")


def parse_levels(text: str) -> list[int]:
    """``--levels``: comma-separated whole percents (``80,95``) as REST's ``levels``."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise refuse(
            f"--levels must be comma-separated whole percents such as 80,95; got {text!r}.", "validation_error"
        ) from None


def _is_file(source: str) -> bool:
    path = Path(source)
    return path.suffix.lower() in {".csv", ".json", ".xlsx"} or path.exists()


def _rows(y: pd.Series) -> list[dict[str, Any]]:
    """Observations as REST takes them: ``{ds, y}``, ``null`` for a missing value."""
    return [{"ds": str(ds), "y": None if math.isnan(v) else float(v)} for ds, v in zip(y.index, y, strict=True)]


def _file_series(path: Path, series: str | None) -> tuple[pd.Series, str, str]:
    """One series of a file, every period between its first and last (absent ones NaN), frequency, kind."""
    import pandas as pd

    from data import load_series

    if not path.is_file():
        raise refuse(f"no file {str(path)!r}; give a CSV path or a stored series id.", "file_not_found")
    # Negative values pass, as in REST's inline data (storing a file refuses them unless asked).
    result = load_series(path, series_id=series or path.stem, allow_negative=True)
    ids = list(result.metas)
    chosen = series if series in ids else (ids[0] if len(ids) == 1 else None)
    if chosen is None:
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        raise refuse(f"{path.name} holds {len(ids)} series ({shown}); choose one with --series.")
    rows = result.frame[result.frame["unique_id"] == chosen]
    index = pd.PeriodIndex(rows["ds"])
    y = pd.Series(rows["y"].to_numpy(dtype=float), index=index, name=chosen)
    # As the store keeps it: a period the file leaves out is a missing value, for --missing to decide.
    y = y.reindex(pd.period_range(index.min(), index.max(), freq=index.freq))
    meta = result.metas[chosen]
    return y, meta.frequency, meta.kind


def _source_body(
    source: str, as_of: datetime | None, kind: str | None, series: str | None
) -> tuple[dict[str, Any], str]:
    """The series part of the REST body (``series_id`` and ``as_of``, or a file's inline ``data``) and its label."""
    from data import DataError

    if not _is_file(source):
        return {"series_id": source, "as_of": as_of.isoformat() if as_of else None, "kind": kind}, source
    if as_of is not None:
        raise refuse("--as-of applies to stored series only; drop it for a file.", "validation_error")
    try:
        y, frequency, file_kind = _file_series(Path(source), series)
    except DataError as exc:
        raise refuse(str(exc), str(getattr(exc, "code", None) or "error")) from None
    return {"data": _rows(y), "frequency": frequency, "kind": kind or file_kind}, str(y.name)


def drivers_body(spec: str | None) -> list[dict[str, Any]] | None:
    """``--drivers``: a CSV file (ds, one column per driver) or ``NAME=SERIES_ID`` pairs."""
    if spec is None:
        return None
    if "=" in spec and not Path(spec).is_file():
        pairs = [part.split("=", 1) for part in spec.split(",") if part.strip()]
        return [{"name": name.strip(), "series_id": series_id.strip()} for name, series_id in pairs]
    import pandas as pd

    try:
        table = pd.read_csv(spec, dtype={0: str})
    except (OSError, ValueError) as exc:
        raise refuse(f"--drivers: cannot read {spec!r} as a CSV file ({exc}).", "file_not_found") from None
    if table.shape[1] < 2:
        raise refuse(f"--drivers: {spec!r} needs a ds column and one column per driver.", "validation_error")
    ds = table.iloc[:, 0].astype(str)
    return [
        {
            "name": str(name),
            "data": [{"ds": d, "y": None if pd.isna(v) else v} for d, v in zip(ds, table[name], strict=True)],
        }
        for name in table.columns[1:]
    ]


def events_body(spec: str | None) -> list[dict[str, Any]] | None:
    """``--events``: ``TYPE:DS[:END]`` items, comma-separated."""
    if spec is None:
        return None
    events = []
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        parts = item.split(":")
        if len(parts) not in (2, 3):
            raise refuse(f"--events items are TYPE:PERIOD or TYPE:PERIOD:END; got {item!r}.", "validation_error")
        events.append({"type": parts[0], "ds": parts[1], **({"end": parts[2]} if len(parts) == 3 else {})})
    return events


def _scenarios_body(path: Path | None) -> dict[str, Any] | None:
    """``--scenarios``: a JSON file shaped like REST's ``scenarios`` (name -> driver -> [{ds, y}])."""
    if path is None:
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise refuse(f"--scenarios: cannot read {str(path)!r} as a JSON object ({exc}).", "validation_error") from None


def in_process_service(settings: Settings) -> ForecastService:
    """The service REST runs, wired by the same code, here fitting in this process (no workers to start or warm)."""
    from api.main import build_service
    from api.metrics import Metrics

    in_process = {"fit_workers": 0, "dask_scheduler": None, "warm_up": False}
    return build_service(settings.model_copy(update=in_process), Metrics())


def _run(body: dict[str, Any], what: str) -> Any:
    """Validate ``body`` with the REST schema of ``what`` (``forecast`` or ``backtest``) and run it on
    the REST service: a :class:`~api.service.types.ForecastResult` or a ``BacktestResult`` (exit 2 on refusal)."""
    from pydantic import ValidationError

    from api.convert import backtest_request, forecast_request
    from api.schemas import BacktestCreate, ForecastCreate
    from data import DataError
    from forecasting.exceptions import ForecastingError

    try:
        if what == "forecast":
            request: Any = forecast_request(ForecastCreate.model_validate(body))
        else:
            request = backtest_request(BacktestCreate.model_validate(body))
    except ValidationError as exc:
        raise refuse_invalid_body(exc) from None
    settings = read_settings()
    store = open_cli_store(settings)
    service = in_process_service(settings)
    try:
        result = service.forecast(request, store)[0] if what == "forecast" else service.backtest(request, store)
    except (ForecastingError, DataError) as exc:
        raise refuse(str(exc), str(getattr(exc, "code", None) or "error")) from None
    finally:
        service.shutdown()
        store.dispose()
    return result


def _blocks(out: ForecastResult) -> list[tuple[str, pd.DataFrame]]:
    """Every frame of the forecast under the name it has in the REST response."""
    blocks = [("forecast", out.frame)]
    if out.growth is not None:
        g = out.growth
        named = [("yoy", g.yoy), ("annual", g.annual), ("vs_base", g.vs_base), ("index", g.index)]
        blocks += [(name, frame) for name, frame in named if frame is not None]
    if out.full_year is not None:
        blocks.append(("full_year", out.full_year))
    blocks += [(f"scenario {name}", frame) for name, frame in (out.scenarios or {}).items()]
    return blocks


_TITLES = {
    "forecast": "Forecast",
    "yoy": "Growth against the same period a year earlier (%)",
    "annual": "Calendar-year growth against the year before (%)",
    "vs_base": "Calendar-year growth against the base year {base} (%)",
    "index": "Index, {base} = 100",
    "full_year": "Full calendar year ({how}): observed year-to-date plus the forecast rest",
}


def forecast_table(out: ForecastResult) -> str:
    """The forecast's blocks as titled text tables."""
    from forecasting.frames import MEAN, MEDIAN
    from forecasting.paths import HEADLINE

    parts = []
    base = str(out.growth.base) if out.growth is not None else ""
    how = str(out.full_year.attrs.get("how", "sum")) if out.full_year is not None else ""
    for name, frame in _blocks(out):
        shown = frame.copy()
        shown.index = shown.index.astype(str)
        title = _TITLES.get(name, "Forecast under {name}").format(
            base=base, how=how, name=name.removeprefix("scenario ")
        )
        if MEDIAN in shown.columns:
            # The headline before the mean it replaces: the median of the paths.
            rest = [c for c in shown.columns if c != MEDIAN]
            at = rest.index(MEAN)
            shown = shown[[*rest[:at], MEDIAN, *rest[at:]]]
            title += f"; headline: {HEADLINE} of the sample paths, mean alongside"
        text = shown.to_string(float_format=lambda v: f"{v:,.2f}")
        parts.append(f"{title}\n{text}")
    return "\n\n".join(parts)


def forecast_csv(out: ForecastResult) -> str:
    """The forecast as one long CSV table: a ``block`` column, then each row of each block."""
    return write_csv(forecast_csv_rows(out))


def forecast_csv_rows(out: ForecastResult) -> list[dict[str, Any]]:
    """The rows of :func:`forecast_csv`: each row of each block under the block's REST name."""
    from api.service.archive import frame_rows

    return [{"block": name, **row} for name, frame in _blocks(out) for row in frame_rows(frame)]


def write_csv(rows: list[dict[str, Any]]) -> str:
    """``rows`` as one CSV table, every key of any row a column (in order of first appearance)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n")


def _json(out: ForecastResult, label: str) -> str:
    """The body ``POST /v1/forecasts`` answers, with ``series`` (the stored id or the file's series) first."""
    from api.convert import forecast_to_read

    return json.dumps({"series": label, **forecast_to_read(out).model_dump(mode="json")}, indent=2)


def forecast(
    source: str = typer.Argument(..., help="A stored series id, or a CSV/JSON/Excel file of one series."),
    horizon: int = HORIZON_OPTION,
    levels: str = LEVELS_OPTION,
    growth: bool = typer.Option(False, "--growth", help="Add growth: year-on-year, annual, vs base year, index."),
    base: str | None = typer.Option(None, "--base", help="Base year of --growth (default: last complete year)."),
    no_yoy: bool = typer.Option(False, "--no-yoy", help="With --growth: leave out the year-on-year block."),
    full_year: bool = typer.Option(False, "--full-year", help="Add the calendar-year total from the year-to-date."),
    how: str | None = typer.Option(None, "--how", help="sum or mean per calendar year (default: by kind)."),
    model: str | None = MODEL_OPTION,
    kind: str | None = KIND_OPTION,
    missing: str = MISSING_OPTION,
    transform: str = TRANSFORM_OPTION,
    drivers: str | None = DRIVERS_OPTION,
    events: str | None = EVENTS_OPTION,
    check_breaks: bool = typer.Option(
        False, "--check-breaks", help="Warn about each strong structural break in the history that no event marks."
    ),
    scenarios: Path | None = typer.Option(
        None, "--scenarios", help="A JSON file of driver scenarios, as REST's 'scenarios': name -> driver -> [{ds, y}]."
    ),
    driver_uncertainty: bool = typer.Option(
        False, "--driver-uncertainty", help="With --scenarios: add the drivers' own forecast errors (wider intervals)."
    ),
    format: str = typer.Option("table", "--format", help="table, csv or json (the REST response body)."),
    as_of: datetime | None = AS_OF_OPTION,
    series: str | None = typer.Option(None, "--series", help="Which series of a file holding several."),
) -> None:
    """Forecast a stored series or a file as POST /v1/forecasts does (same options, checks and answer; archived
    in the store), with intervals and optional growth and full-year blocks."""
    if format not in FORMATS:
        raise refuse(f"--format must be one of {', '.join(FORMATS)}; got {format!r}.")
    if (base is not None or no_yoy) and not growth:
        raise refuse("--base and --no-yoy apply to --growth; add --growth or drop them.")
    body, label = _source_body(source, as_of, kind, series)
    body |= {"horizon": horizon, "levels": parse_levels(levels), "model": model, "missing": missing}
    body |= {"transform": transform, "check_breaks": check_breaks, "driver_uncertainty": driver_uncertainty}
    body |= {"drivers": drivers_body(drivers), "events": events_body(events), "scenarios": _scenarios_body(scenarios)}
    body |= {"growth": {"yoy": not no_yoy, "base": base, "how": how} if growth else None}
    body |= {"full_year": {"how": how} if full_year else None}
    out: ForecastResult = _run(body, "forecast")
    for warned in out.warnings:
        typer.echo(f"warning ({warned.code}): {warned.message}", err=True)
    text = {"table": forecast_table, "csv": forecast_csv}.get(format)
    typer.echo(text(out) if text is not None else _json(out, label))


def backtest(
    source: str = typer.Argument(..., help="A stored series id, or a CSV/JSON/Excel file of one series."),
    horizon: int = typer.Option(3, "--horizon", help="Periods ahead at each origin."),
    windows: int = typer.Option(3, "--windows", help="Number of forecast origins."),
    step: int = typer.Option(1, "--step", help="Periods between successive origins."),
    models: str | None = typer.Option(
        None, "--models", help="Models to compare, comma-separated (default TRADECAST_DEFAULT_MODEL)."
    ),
    levels: str = typer.Option("80,95", "--levels", help="Interval levels in percent, comma-separated."),
    missing: str = typer.Option(
        "error",
        "--missing",
        help="Missing values: error (refuse the series), latest_stretch (the latest unbroken stretch) or model "
        "(backtest through the gaps with models that take them).",
    ),
    transform: str = typer.Option("none", "--transform", help="none, or log (fit on the log scale; level series)."),
    drivers: str | None = typer.Option(None, "--drivers", help=DRIVERS_HELP),
    events: str | None = typer.Option(None, "--events", help=EVENTS_HELP),
    kind: str | None = typer.Option(None, "--kind", help="level or share (default: the stored or file kind)."),
    format: str = typer.Option("table", "--format", help="table or json."),
    as_of: datetime | None = typer.Option(None, "--as-of", help="Stored series as known then (UTC)."),
    series: str | None = typer.Option(None, "--series", help="Which series of a file holding several."),
) -> None:
    """Backtest models by rolling origin as POST /v1/backtests does: errors per model (MAE, RMSE in the series'
    units), the best by each."""
    from api.service.types import BacktestResult

    if format not in ("table", "json"):
        raise refuse(f"--format must be table or json; got {format!r}.")
    body, label = _source_body(source, as_of, kind, series)
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    body |= {"horizon": horizon, "windows": windows, "step": step, "models": names, "levels": parse_levels(levels)}
    body |= {
        "missing": missing,
        "transform": transform,
        "drivers": drivers_body(drivers),
        "events": events_body(events),
    }
    out: BacktestResult = _run(body, "backtest")
    for warned in out.warnings:
        typer.echo(f"warning ({warned.code}): {warned.message}", err=True)
    scores = out.model_scores
    if format == "json":
        body = {
            "series": label,
            "metrics": json.loads(scores.to_json(orient="records")),
            "best": out.best,
            "warnings": [{"code": n.code, "message": n.message} for n in out.warnings],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    shown = scores.set_index("model")
    typer.echo(f"Backtest of {label}: {windows} origin(s), {horizon} step(s) ahead; MAE and RMSE in the series' units")
    typer.echo(shown.to_string(float_format=lambda v: f"{v:,.4g}"))
    if out.best:
        typer.echo("Best model: " + ", ".join(f"{metric} {model}" for metric, model in out.best.items()))
