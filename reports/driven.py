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

A scenario whose stored path does not cover the horizon is left out with a note: the same
:class:`~forecasting.exceptions.FutureDriversError` that REST answers with 422
(:func:`forecasting.scenarios.scenario_paths`), its message as the note.

The section then carries, all from the one fit of :func:`forecasting.fit_forecast`: the
forecast, growth and full year, the scenarios, a backtest with the drivers known at each
origin, a "Drivers" table (which stored series, up to when, how the horizon is covered,
and the fitted coefficient, its standard error and the elasticity at the mean), and with
scenarios the scenario table and one fan chart per scenario
(:mod:`reports.scenarios`, in HTML and so in PDF) and their rows for the workbook's
``scenarios`` sheet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from forecasting.exceptions import ForecastingError, InvalidSeriesError
from forecasting.executor import WarningNote, capture_warnings
from forecasting.fit import DriverCoefficient, FittedForecast
from forecasting.frames import future_index
from forecasting.outlook import outlook_horizon
from reports.content import (
    ContentBlock,
    SeriesSection,
    backtest_fitted,
    build_section,
    forecast_failure,
    prepare_series,
    section_fit,
    section_notes,
    with_params,
)
from reports.scenarios import build_scenario_section, render_scenario_section

__all__ = ["compute_driven_section"]


def _drivers_table(drivers: Mapping[str, pd.Series], index: pd.Index, horizon: int) -> tuple[pd.DataFrame, list[str]]:
    """The drivers as one frame, and those without values somewhere in the horizon (to extend)."""
    frame = pd.DataFrame({name: s.astype(float) for name, s in drivers.items()})
    short = [name for name, s in drivers.items() if s.reindex(future_index(index, horizon)).isna().any()]
    return frame, short


def _driver_block(
    drivers: Mapping[str, pd.Series],
    ids: Mapping[str, str],
    future: pd.Index,
    coefficients: Sequence[DriverCoefficient] = (),
) -> ContentBlock:
    fitted = {c.name: c for c in coefficients}
    rows: list[list[str | float | None]] = []
    for name, series in drivers.items():
        last = series.last_valid_index()
        covered = series.reindex(future).notna().all()
        how = "stored values" if covered else f"own forecast after {last}"
        coef = fitted.get(str(name))
        estimates = [None, None, None] if coef is None else [coef.estimate, coef.std_error, coef.elasticity_at_mean]
        rows.append([name, ids.get(name, name), str(last) if last is not None else "", how, *estimates])
    return ContentBlock(
        title="Drivers",
        columns=[
            "driver",
            "stored series",
            "last stored period",
            "over the horizon",
            "coefficient",
            "standard error",
            "elasticity at the mean",
        ],
        rows=rows,
        note="The forecast is conditional on these drivers; where a driver's stored values stop early, its own "
        "forecast stands in and its uncertainty is not in the intervals. The coefficient is on the model's scale "
        "(logit for shares); the elasticity is the percent change of the series for a 1% change of the driver, "
        "at the sample means.",
    )


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
    transform: str = "none",
) -> SeriesSection:
    """Forecast ``y`` with its drivers (and events, scenarios) and assemble its section; parameters of
    :func:`reports.content.compute_section`, plus ``drivers`` (name -> stored series, history and any
    future), ``driver_ids`` (name -> stored series id), ``events``, ``scenarios`` (name -> driver ->
    stored path) and ``driver_uncertainty``. Errors become a failed section, as there."""
    described = {"title": title, "model": model, "unit": unit, "source": source}
    try:
        y, fit_y, gap_note = prepare_series(series_id, y, kind, missing)
    except InvalidSeriesError as exc:
        return forecast_failure(series_id, exc, "", described)
    try:
        with capture_warnings() as caught:
            setup = (horizon, tuple(levels), model, kind, missing, check_breaks, transform)
            fitted = _fit(fit_y, setup, drivers, events, scenarios, driver_uncertainty)
            no_backtest = (None, "no backtest: the series has gaps")
            bt, note = no_backtest if missing == "model" else backtest_fitted(fitted, backtest_windows)
    except ForecastingError as exc:
        return forecast_failure(series_id, exc, gap_note, described)
    left_out = [WarningNote("invalid_future_drivers", why) for why in fitted.skipped_scenarios.values()]
    section = build_section(
        series_id,
        y,
        fitted.forecast,
        levels=levels,
        vintage=vintage,
        backtest_frame=bt,
        accuracy_note=note,
        archived=archived,
        warnings_=[*section_notes(caught, gap_note), *left_out],
        kind=kind,
        growth=fitted.growth,
        full_year=fitted.full_year,
        missing=missing,
        **described,
    )
    return _with_extras(with_params(section, fitted), fit_y, drivers, driver_ids or {}, horizon, fitted)


def _fit(
    y: pd.Series,
    setup: tuple[int, tuple[int, ...], str, str, str, bool, str],
    drivers: Mapping[str, pd.Series],
    events: list[dict[str, Any]] | None,
    scenarios: Mapping[str, Mapping[str, pd.Series]] | None,
    driver_uncertainty: bool,
) -> FittedForecast:
    """The section's one fit (``setup``: horizon, levels, model, kind, missing, check_breaks, transform);
    stored drivers that stop early are forecast by their own model."""
    horizon, levels, model, kind, missing, check_breaks, transform = setup
    table, short = _drivers_table(drivers, y.index, outlook_horizon(y.index, horizon)) if drivers else (None, [])
    paths = {name: pd.DataFrame({d: s.astype(float) for d, s in ds.items()}) for name, ds in (scenarios or {}).items()}
    return section_fit(
        y,
        horizon=horizon,
        levels=levels,
        model=model,
        kind=kind,
        missing=missing,
        check_breaks=check_breaks,
        transform=transform,
        drivers=table,
        extend=short,
        events=events,
        scenarios=paths or None,
        driver_uncertainty=driver_uncertainty,
    )


def _with_extras(
    section: SeriesSection,
    y: pd.Series,
    drivers: Mapping[str, pd.Series],
    driver_ids: Mapping[str, str],
    horizon: int,
    fitted: FittedForecast,
) -> SeriesSection:
    """The section with its drivers table and, with scenarios, their table and fan charts."""
    blocks = list(section.blocks)
    if drivers:
        blocks.append(_driver_block(drivers, driver_ids, future_index(y.index, horizon), fitted.coefficients))
    frames = fitted.scenarios
    if not frames:
        return dataclasses.replace(section, blocks=blocks)
    scen = build_scenario_section(section.series_id, y, frames, title=section.title, unit=section.unit)
    return dataclasses.replace(
        section,
        blocks=blocks,
        scenarios=scen.scenarios,
        extra_html=[*section.extra_html, str(render_scenario_section(scen))],
    )
