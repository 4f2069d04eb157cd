"""Drivers, events and scenarios of a request: plain values until a fit needs them.

A request's drivers arrive as named columns of ``{ds, y}`` observations covering the
series' history and the forecast horizon. They are parsed with the series' own
frequency once the series is read (:func:`driver_table`), then split into ``X`` and
``X_future`` by :func:`forecasting.drivers.split_drivers`, whose errors name the driver
and the period (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from api.cache import data_hash
from forecasting.drivers import split_drivers
from forecasting.exceptions import FutureDriversError, InvalidDriversError, InvalidParameterError
from forecasting.series import ItemLocator, parse_series

__all__ = [
    "DrivenFit",
    "DriverColumn",
    "DriverInputs",
    "ScenarioInputs",
    "driven_fit",
    "driver_table",
    "scenario_tables",
]


@dataclass(frozen=True)
class DriverColumn:
    """One driver: its name and its observations (period labels and values)."""

    name: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]

    def payload(self) -> list[Any]:
        return [self.name, [[ds, y] for ds, y in zip(self.labels, self.values, strict=True)]]


@dataclass(frozen=True)
class DriverInputs:
    """The drivers and known events of one series (either may be empty)."""

    columns: tuple[DriverColumn, ...] = ()
    events: tuple[tuple[tuple[str, Any], ...], ...] = ()

    @cached_property
    def digest(self) -> str:
        """sha256 of the drivers and events: part of the forecast's cache key."""
        return data_hash([[c.payload() for c in self.columns], [list(e) for e in self.events]])

    def event_list(self) -> list[dict[str, Any]] | None:
        """The events as the library takes them (None when there are none)."""
        return [dict(e) for e in self.events] or None


@dataclass(frozen=True)
class ScenarioInputs:
    """Named future paths of the drivers, and whether the drivers' own errors widen the intervals."""

    paths: tuple[tuple[str, tuple[DriverColumn, ...]], ...]
    driver_uncertainty: bool = False

    @cached_property
    def digest(self) -> str:
        """sha256 of the scenarios: part of the forecast's cache key."""
        return data_hash([[[n, [c.payload() for c in cols]] for n, cols in self.paths], self.driver_uncertainty])


def _parse(columns: tuple[DriverColumn, ...], frequency: str, where: str) -> pd.DataFrame:
    parsed = {}
    for i, col in enumerate(columns):
        if col.name in parsed:
            raise InvalidDriversError(f"{where} name driver {col.name!r} twice; give each driver once.")
        name = f"{where}[{i}].data"
        parsed[col.name] = parse_series(
            col.labels, col.values, frequency=frequency, name=name, allow_gaps=True, locator=ItemLocator(name)
        )
    return pd.DataFrame(parsed)


def driver_table(inputs: DriverInputs | None, frequency: str) -> pd.DataFrame | None:
    """The drivers as one frame on periods of ``frequency`` (history and horizon; gaps NaN).

    Raises
    ------
    InvalidSeriesError
        A label or value that does not parse (naming ``drivers[i].data[j]``).
    InvalidDriversError
        A driver named twice.
    """
    if inputs is None or not inputs.columns:
        return None
    return _parse(inputs.columns, frequency, "drivers")


def scenario_tables(scenarios: ScenarioInputs | None, frequency: str) -> Mapping[str, pd.DataFrame] | None:
    """Each scenario's drivers as a frame on periods of ``frequency`` (None without scenarios)."""
    if scenarios is None:
        return None
    return {name: _parse(cols, frequency, f"scenarios.{name}") for name, cols in scenarios.paths}


@dataclass(frozen=True)
class DrivenFit:
    """What a fit with drivers, events, gaps or scenarios needs besides the series (picklable).

    Built in the request thread by :func:`driven_fit`; run on a worker by
    :func:`~api.service.fitting.fit_forecast`.
    """

    drivers: pd.DataFrame | None = None
    events: list[dict[str, Any]] | None = None
    missing: str = "error"
    check_breaks: bool = False
    scenarios: Mapping[str, pd.DataFrame] | None = None
    driver_uncertainty: bool = False

    def split(self, y: pd.Series, horizon: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """``X`` and ``X_future`` for ``y`` (None, None without drivers)."""
        if self.drivers is None:
            return None, None
        return split_drivers(self.drivers, y.index, horizon)

    def scenario_futures(self, X_future: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
        """Each scenario's drivers over the horizon: the baseline with the scenario's columns replaced."""
        if not self.scenarios:
            return {}
        if X_future is None:
            raise InvalidParameterError(
                "scenarios need 'drivers': their history and their baseline values over the horizon."
            )
        out = {}
        for name, table in self.scenarios.items():
            unknown = sorted(set(table.columns) - set(X_future.columns))
            if unknown:
                raise FutureDriversError(
                    f"scenario {name!r} sets driver(s) {unknown} that are not among 'drivers' {list(X_future.columns)}."
                )
            path = X_future.copy()
            for col in table.columns:
                absent = X_future.index.difference(table[col].dropna().index)
                if len(absent):
                    raise FutureDriversError(
                        f"scenario {name!r}: driver {col!r} has no value for forecast period {absent[0]}; give "
                        f"every period from {X_future.index[0]} to {X_future.index[-1]}."
                    )
                path[col] = table[col].reindex(X_future.index).to_numpy()
            out[name] = path
        return out


def driven_fit(
    drivers: pd.DataFrame | None,
    inputs: DriverInputs | None,
    missing: str,
    check_breaks: bool = False,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    driver_uncertainty: bool = False,
) -> DrivenFit | None:
    """The fit's extra inputs, or None when the plain forecast applies (no drivers, events,
    gaps, break check or scenarios)."""
    events = inputs.event_list() if inputs is not None else None
    if drivers is None and events is None and missing != "model" and not check_breaks and not scenarios:
        return None
    return DrivenFit(drivers, events, missing, check_breaks, scenarios, driver_uncertainty)
