"""``tradecast forecast`` and ``tradecast backtest``: a stored series or a CSV file.

A thin shell over :func:`forecasting.forecast_outlook`: read the series (the store, or a file
through the same ingest as ``tradecast load``), call the library, print a table, CSV or JSON.
Every refusal exits with status 2 and one line naming the problem, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from api.cli_store import read_settings

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.executor import WarningNote
    from forecasting.outlook import Outlook

__all__ = ["backtest", "forecast", "register"]

FORMATS = ("table", "csv", "json")


def register(app: typer.Typer) -> None:
    """Attach ``forecast`` and ``backtest`` to the main command."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest)


def _refuse(message: str, code: str = "invalid_argument") -> typer.Exit:
    typer.echo(f"error ({code}): {message}", err=True)
    return typer.Exit(code=2)


def _levels(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise _refuse(f"--levels must be comma-separated whole percents such as 80,95; got {text!r}.") from None


def _from_file(path: Path, kind: str | None, series: str | None) -> tuple[pd.Series, str]:
    import pandas as pd

    from data import load_series

    result = load_series(path, kind=kind, series_id=series or path.stem)
    ids = list(result.metas)
    chosen = series if series in ids else (ids[0] if len(ids) == 1 else None)
    if chosen is None:
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        raise _refuse(f"{path.name} holds {len(ids)} series ({shown}); choose one with --series.")
    rows = result.frame[result.frame["unique_id"] == chosen]
    y = pd.Series(rows["y"].to_numpy(dtype=float), index=pd.PeriodIndex(rows["ds"]), name=chosen)
    return y, result.metas[chosen].kind


def _from_store(series_id: str, as_of: datetime | None, kind: str | None) -> tuple[pd.Series, str]:
    store = read_settings().store.open_store()
    try:
        store.create_schema()
        stored = store.read_series(series_id, as_of=as_of)
    finally:
        store.dispose()
    return stored.series, kind or stored.meta.kind


def _read(source: str, as_of: datetime | None, kind: str | None, series: str | None) -> tuple[pd.Series, str]:
    """The series named by ``source`` (a file path if one exists there, else a stored id)."""
    path = Path(source)
    if path.suffix.lower() in {".csv", ".json", ".xlsx"} or path.exists():
        if not path.is_file():
            raise _refuse(f"no file {source!r}; give a CSV path or a stored series id.", "file_not_found")
        if as_of is not None:
            raise _refuse("--as-of applies to stored series only; drop it for a file.")
        return _from_file(path, kind, series)
    return _from_store(source, as_of, kind)


def _blocks(out: Outlook) -> list[tuple[str, pd.DataFrame]]:
    """Every frame of the outlook under the name it has in the REST response."""
    blocks = [("forecast", out.forecast)]
    if out.growth is not None:
        g = out.growth
        named = [("yoy", g.yoy), ("annual", g.annual), ("vs_base", g.vs_base), ("index", g.index)]
        blocks += [(name, frame) for name, frame in named if frame is not None]
    if out.full_year is not None:
        blocks.append(("full_year", out.full_year))
    return blocks


_TITLES = {
    "forecast": "Forecast",
    "yoy": "Growth against the same period a year earlier (%)",
    "annual": "Calendar-year growth against the year before (%)",
    "vs_base": "Calendar-year growth against the base year {base} (%)",
    "index": "Index, {base} = 100",
    "full_year": "Full calendar year ({how}): observed year-to-date plus the forecast rest",
}


def _table(out: Outlook) -> str:
    from forecasting.frames import MEAN, MEDIAN
    from forecasting.paths import HEADLINE

    parts = []
    base = str(out.growth.base) if out.growth is not None else ""
    how = str(out.full_year.attrs.get("how", "sum")) if out.full_year is not None else ""
    for name, frame in _blocks(out):
        shown = frame.copy()
        shown.index = shown.index.astype(str)
        title = _TITLES[name].format(base=base, how=how)
        if MEDIAN in shown.columns:
            # The headline before the mean it replaces: the median of the paths.
            rest = [c for c in shown.columns if c != MEDIAN]
            at = rest.index(MEAN)
            shown = shown[[*rest[:at], MEDIAN, *rest[at:]]]
            title += f"; headline: {HEADLINE} of the sample paths, mean alongside"
        text = shown.to_string(float_format=lambda v: f"{v:,.2f}")
        parts.append(f"{title}\n{text}")
    return "\n\n".join(parts)


def _csv(out: Outlook) -> str:
    from api.service.archive import frame_rows

    rows = [{"block": name, **row} for name, frame in _blocks(out) for row in frame_rows(frame)]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n")


def _json(out: Outlook, y: pd.Series, model: str, notes: list[WarningNote]) -> str:
    from api.service.archive import frame_rows, outlook_params

    body: dict[str, Any] = {"series": y.name, "model": model, "forecast": frame_rows(out.forecast)}
    body |= {"growth": None, "full_year": None} | outlook_params(out.growth, out.full_year)
    body["warnings"] = [{"code": n.code, "message": n.message} for n in notes]
    return json.dumps(body, indent=2)


def forecast(
    source: str = typer.Argument(..., help="A stored series id, or a CSV/JSON/Excel file of one series."),
    horizon: int = typer.Option(12, "--horizon", help="Periods ahead."),
    levels: str = typer.Option("80,95", "--levels", help="Interval levels in percent, comma-separated."),
    growth: bool = typer.Option(False, "--growth", help="Add growth: year-on-year, annual, vs base year, index."),
    base: str | None = typer.Option(None, "--base", help="Base year of --growth (default: last complete year)."),
    full_year: bool = typer.Option(False, "--full-year", help="Add the calendar-year total from the year-to-date."),
    how: str | None = typer.Option(None, "--how", help="sum or mean per calendar year (default: by kind)."),
    model: str | None = typer.Option(None, "--model", help="A registered model (default TRADECAST_DEFAULT_MODEL)."),
    kind: str | None = typer.Option(None, "--kind", help="level or share (default: the stored or file kind)."),
    format: str = typer.Option("table", "--format", help="table, csv or json."),
    as_of: datetime | None = typer.Option(None, "--as-of", help="Stored series as known then (UTC)."),
    series: str | None = typer.Option(None, "--series", help="Which series of a file holding several."),
) -> None:
    """Forecast a stored series or a file, with intervals and optional growth and full-year blocks."""
    from data import DataError
    from forecasting.core import latest_complete_stretch
    from forecasting.exceptions import ForecastingError, ForecastingWarning
    from forecasting.executor import capture_warnings
    from forecasting.outlook import FullYearOptions, GrowthOptions, forecast_outlook

    if format not in FORMATS:
        raise _refuse(f"--format must be one of {', '.join(FORMATS)}; got {format!r}.")
    if base is not None and not growth:
        raise _refuse("--base applies to --growth; add --growth or drop --base.")
    model = model or read_settings().api.default_model
    try:
        y, series_kind = _read(source, as_of, kind, series)
        y, note = latest_complete_stretch(y)
        if note:
            typer.echo(f"note (missing_values): {note}", err=True)
        with capture_warnings(ForecastingWarning) as notes:
            out = forecast_outlook(
                y,
                horizon,
                _levels(levels),
                model,
                kind or series_kind,
                growth=GrowthOptions(base=base, how=how) if growth else None,
                full_year=FullYearOptions(how=how) if full_year else None,
            )
    except (ForecastingError, DataError) as exc:
        raise _refuse(str(exc), str(getattr(exc, "code", "error"))) from None
    for warned in notes:
        typer.echo(f"warning ({warned.code}): {warned.message}", err=True)
    text = {"table": _table, "csv": _csv}.get(format)
    typer.echo(text(out) if text is not None else _json(out, y, model, notes))


def backtest(
    source: str = typer.Argument(..., help="A stored series id, or a CSV/JSON/Excel file of one series."),
    horizon: int = typer.Option(3, "--horizon", help="Periods ahead at each origin."),
    windows: int = typer.Option(3, "--windows", help="Number of forecast origins."),
    models: str | None = typer.Option(
        None, "--models", help="Models to compare, comma-separated (default TRADECAST_DEFAULT_MODEL)."
    ),
    levels: str = typer.Option("80,95", "--levels", help="Interval levels in percent, comma-separated."),
    missing: str = typer.Option(
        "error", "--missing", help="error (refuse gaps) or model (backtest through gaps with models that take them)."
    ),
    kind: str | None = typer.Option(None, "--kind", help="level or share (default: the stored or file kind)."),
    format: str = typer.Option("table", "--format", help="table or json."),
    as_of: datetime | None = typer.Option(None, "--as-of", help="Stored series as known then (UTC)."),
    series: str | None = typer.Option(None, "--series", help="Which series of a file holding several."),
) -> None:
    """Backtest models by rolling origin: errors per model (MAE, RMSE in the series' units), the best by each."""
    import forecasting
    from data import DataError
    from forecasting.core import best_models, score_backtest
    from forecasting.exceptions import ForecastingError, ForecastingWarning
    from forecasting.executor import capture_warnings

    if format not in ("table", "json"):
        raise _refuse(f"--format must be table or json; got {format!r}.")
    names = [m.strip() for m in (models or read_settings().api.default_model).split(",") if m.strip()]
    try:
        y, series_kind = _read(source, as_of, kind, series)
        with capture_warnings(ForecastingWarning) as notes:
            frame = forecasting.backtest(
                y, horizon, windows, models=names, levels=_levels(levels), kind=kind or series_kind, missing=missing
            )
        _windows, scores = score_backtest(frame, y)
    except (ForecastingError, DataError) as exc:
        raise _refuse(str(exc), str(getattr(exc, "code", "error"))) from None
    for warned in notes:
        typer.echo(f"warning ({warned.code}): {warned.message}", err=True)
    best = best_models(scores)
    if format == "json":
        body = {
            "series": y.name,
            "metrics": json.loads(scores.to_json(orient="records")),
            "best": best,
            "warnings": [{"code": n.code, "message": n.message} for n in notes],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    shown = scores.set_index("model")
    typer.echo(f"Backtest of {y.name}: {windows} origin(s), {horizon} step(s) ahead; MAE and RMSE in the series' units")
    typer.echo(shown.to_string(float_format=lambda v: f"{v:,.4g}"))
    if best:
        typer.echo("Best model: " + ", ".join(f"{metric} {model}" for metric, model in best.items()))
