"""A report section forecast with drivers, events and scenarios (pure: series in, section out).

:func:`compute_driven_section` is :func:`reports.content.compute_section` for a series whose
definition names stored series as drivers (:mod:`reports.driver_options`). The job reads
every driver and scenario series at the run's as-of time and passes them in as plain series.

Policy when a driver's stored series stops before the end of the horizon (no assumed path
stored): the driver is forecast by its own univariate model (``auto``) over the missing
periods (:func:`forecasting.scenarios.extend_drivers`), and the section's warnings say so
("driver 'brent' has no values from 2025-07 on; its own forecast ... stands in"). The forecast
is still the model with drivers, which is what the definition asked for; skipping the
drivers would silently change the model. A scenario that gives the driver's path uses that
path instead. A driver without a value somewhere in the history is an error of the
section (explained to the reader), not filled.

The section then carries: the forecast, growth and full year from the same fitted model
(:func:`forecasting.forecast_outlook` with ``X``), a backtest with the drivers known at
each origin, a "Drivers" table (which stored series, up to when, how the horizon is
covered), and with scenarios the scenario table and one fan chart per scenario
(:mod:`reports.scenarios`, in HTML and so in PDF) and their rows for the workbook's
``scenarios`` sheet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

import forecasting
from forecasting.drivers import split_drivers
from forecasting.exceptions import ForecastingError, FutureDriversError, InvalidSeriesError
from forecasting.executor import WarningNote, capture_warnings
from forecasting.frames import future_index
from forecasting.outlook import Outlook, forecast_outlook, outlook_history, outlook_horizon
from forecasting.scenarios import extend_drivers
from reports.content import (
    ContentBlock,
    SeriesSection,
    _backtest,
    _outlook_options,
    _section_notes,
    break_notes,
    build_section,
    forecast_failure,
    prepare_series,
)
from reports.scenarios import build_scenario_section, render_scenario_section

__all__ = ["compute_driven_section"]


def _drivers_table(drivers: Mapping[str, pd.Series], index: pd.Index, horizon: int) -> pd.DataFrame:
    """The drivers as one frame, their missing horizon periods filled by their own forecast (warned)."""
    frame = pd.DataFrame({name: s.astype(float) for name, s in drivers.items()})
    short = [name for name, s in drivers.items() if s.reindex(future_index(index, horizon)).isna().any()]
    return extend_drivers(frame, index, horizon, short) if short else frame


def _scenario_paths(
    scenarios: Mapping[str, Mapping[str, pd.Series]], X_future: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], list[WarningNote]]:
    """Each scenario's drivers over the horizon (the baseline with its drivers' paths), and notes
    for the scenarios left out because their stored path does not cover the horizon."""
    paths, notes = {}, []
    for name, drivers in scenarios.items():
        path = X_future.copy()
        for driver, series in drivers.items():
            values = series.reindex(X_future.index)
            if values.isna().any():
                first = X_future.index[values.isna().to_numpy()][0]
                notes.append(
                    WarningNote(
                        "invalid_future_drivers",
                        f"scenario {name!r} left out: its path of driver {driver!r} has no value for {first}; store "
                        f"the path for every forecast period ({X_future.index[0]} to {X_future.index[-1]}).",
                    )
                )
                break
            path[driver] = values.to_numpy()
        else:
            paths[name] = path
    return paths, notes


def _driver_block(drivers: Mapping[str, pd.Series], ids: Mapping[str, str], future: pd.Index) -> ContentBlock:
    rows: list[list[str | float | None]] = []
    for name, series in drivers.items():
        last = series.last_valid_index()
        covered = series.reindex(future).notna().all()
        how = "stored values" if covered else f"own forecast after {last}"
        rows.append([name, ids.get(name, name), str(last) if last is not None else "", how])
    return ContentBlock(
        title="Drivers",
        columns=["driver", "stored series", "last stored period", "over the horizon"],
        rows=rows,
        note="The forecast is conditional on these drivers; where a driver's stored values stop early, its own "
        "forecast stands in and its uncertainty is not in the intervals.",
    )


def _outlook(
    y: pd.Series,
    table: pd.DataFrame,
    horizon: int,
    levels: Sequence[int],
    model: str,
    kind: str,
    events: list[dict[str, Any]] | None,
    missing: str,
) -> tuple[Outlook, pd.DataFrame | None, pd.DataFrame | None]:
    """The forecast with its blocks when the history allows them; also ``X`` and ``X_future`` over the horizon."""
    try:
        growth, full_year = _outlook_options(outlook_history(y))
    except ForecastingError:
        growth, full_year = None, None
    X = X_path = None
    if not table.empty:
        path_horizon = outlook_horizon(y.index, horizon) if growth or full_year else horizon
        X, X_path = split_drivers(table, y.index, path_horizon)
    out = forecast_outlook(
        y,
        horizon,
        levels,
        model,
        kind,
        growth=growth,
        full_year=full_year,
        X=X,
        X_future=X_path,
        events=events,
        missing=missing,
    )
    return out, X, None if X_path is None else X_path.iloc[:horizon]


def compute_driven_section(
    series_id: str,
    y: pd.Series,
    *,
    horizon: int,
    levels: Sequence[int],
    drivers: Mapping[str, pd.Series],
    driver_ids: Mapping[str, str] | None = None,
    events: list[dict[str, Any]] | None = None,
    scenarios: Mapping[str, Mapping[str, pd.Series]] | None = None,
    driver_uncertainty: bool = False,
    model: str = "auto",
    kind: str = "level",
    backtest_windows: int = 3,
    title: str = "",
    unit: str = "",
    vintage: str = "",
    archived: pd.DataFrame | None = None,
    source: str = "",
    missing: str = "error",
    check_breaks: bool = False,
) -> SeriesSection:
    """Forecast ``y`` with its drivers (and events, scenarios) and assemble its section.

    Parameters are those of :func:`reports.content.compute_section`, plus ``drivers``
    (driver name -> its stored series, history and whatever future is stored),
    ``driver_ids`` (driver name -> stored series id, for the reader), ``events``,
    ``scenarios`` (scenario name -> driver name -> the stored path) and
    ``driver_uncertainty``. Errors become a failed section, as there.
    """
    described = {"title": title, "model": model, "unit": unit, "source": source}
    try:
        y, fit_y, gap_note = prepare_series(series_id, y, kind, missing)
    except InvalidSeriesError as exc:
        return forecast_failure(series_id, exc, "", described)
    fit = _Fit(horizon, tuple(levels), model, kind, events, missing)
    try:
        with capture_warnings() as caught:
            done = _forecast_all(fit_y, fit, drivers, scenarios, driver_uncertainty, backtest_windows)
    except ForecastingError as exc:
        return forecast_failure(series_id, exc, gap_note, described)
    breaks = break_notes(fit_y, events) if check_breaks else []
    section = build_section(
        series_id,
        y,
        done.outlook.forecast,
        levels=levels,
        vintage=vintage,
        backtest_frame=done.backtest,
        accuracy_note=done.accuracy_note,
        archived=archived,
        warnings_=[*_section_notes(caught, gap_note, breaks), *done.scenario_notes],
        kind=kind,
        growth=done.outlook.growth,
        full_year=done.outlook.full_year,
        missing=missing,
        **described,
    )
    return _with_extras(section, fit_y, drivers, driver_ids or {}, horizon, done.scenarios)


@dataclass(frozen=True)
class _Done:
    """The fits of a driven section."""

    outlook: Outlook
    scenarios: dict[str, pd.DataFrame]
    scenario_notes: list[WarningNote]
    backtest: pd.DataFrame | None
    accuracy_note: str


@dataclass(frozen=True)
class _Fit:
    """What every fit of a driven section shares."""

    horizon: int
    levels: tuple[int, ...]
    model: str
    kind: str
    events: list[dict[str, Any]] | None
    missing: str


def _forecast_all(
    y: pd.Series,
    fit: _Fit,
    drivers: Mapping[str, pd.Series],
    scenarios: Mapping[str, Mapping[str, pd.Series]] | None,
    driver_uncertainty: bool,
    backtest_windows: int,
) -> _Done:
    """The forecast with its blocks, the scenarios and the backtest (no backtest over gaps)."""
    horizon, levels, model, kind, events, missing = (
        fit.horizon,
        fit.levels,
        fit.model,
        fit.kind,
        fit.events,
        fit.missing,
    )
    table = _drivers_table(drivers, y.index, outlook_horizon(y.index, horizon)) if drivers else pd.DataFrame()
    out, X, X_future = _outlook(y, table, horizon, levels, model, kind, events, missing)
    frames, notes = _scenarios(
        y, horizon, levels, model, kind, X, X_future, events, missing, scenarios, driver_uncertainty
    )
    if missing == "model":
        return _Done(out, frames, notes, None, "no backtest: the series has gaps")
    bt, note = _backtest(y, horizon, levels, model, kind, backtest_windows, X=X, events=events)
    return _Done(out, frames, notes, bt, note)


def _scenarios(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int],
    model: str,
    kind: str,
    X: pd.DataFrame | None,
    X_future: pd.DataFrame | None,
    events: list[dict[str, Any]] | None,
    missing: str,
    scenarios: Mapping[str, Mapping[str, pd.Series]] | None,
    driver_uncertainty: bool,
) -> tuple[dict[str, pd.DataFrame], list[WarningNote]]:
    """One forecast per scenario that covers the horizon (none without scenarios)."""
    if not scenarios:
        return {}, []
    if X is None or X_future is None:
        raise FutureDriversError("scenarios need drivers: a scenario is a path of the drivers.")
    paths, notes = _scenario_paths(scenarios, X_future)
    if not paths:
        return {}, notes
    frames = forecasting.forecast_scenarios(
        y, horizon, X, paths, levels, model, kind, events=events, missing=missing, driver_uncertainty=driver_uncertainty
    )
    return frames, notes


def _with_extras(
    section: SeriesSection,
    y: pd.Series,
    drivers: Mapping[str, pd.Series],
    driver_ids: Mapping[str, str],
    horizon: int,
    frames: Mapping[str, pd.DataFrame],
) -> SeriesSection:
    """The section with its drivers table and, with scenarios, their table and fan charts."""
    blocks = list(section.blocks)
    if drivers:
        blocks.append(_driver_block(drivers, driver_ids, future_index(y.index, horizon)))
    if not frames:
        return dataclasses.replace(section, blocks=blocks)
    scen = build_scenario_section(section.series_id, y, frames, title=section.title, unit=section.unit)
    return dataclasses.replace(
        section,
        blocks=blocks,
        scenarios=scen.scenarios,
        extra_html=[*section.extra_html, str(render_scenario_section(scen))],
    )
