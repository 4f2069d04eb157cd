"""Drivers, events and scenarios of a request: plain values until a fit needs them.

A request's drivers arrive as named columns of ``{ds, y}`` observations covering the
series' history and the forecast horizon, or as references to stored series
(``series_id``, read at the request's ``as_of`` or the driver's own). They are parsed with
the series' own frequency once the series is read (:func:`driver_table`,
:func:`read_stored_drivers`) and handed as one table to :func:`forecasting.plan_forecast`,
which splits them into ``X`` and ``X_future`` (errors name the driver and the period: 422).
A stored driver is checked against the periods it must cover before any fit
(:func:`check_stored_coverage`); where it stops before the horizon's end and every scenario
gives its path, it is passed as ``extend`` and the baseline forecast uses the driver's own
forecast (:func:`forecasting.scenarios.extend_drivers`, inside the one fit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from api.cache import data_hash
from data import SeriesNotFoundError, Store
from forecasting.exceptions import FutureDriversError, InvalidDriversError
from forecasting.frames import future_index
from forecasting.series import ItemLocator, parse_series

__all__ = [
    "DriverColumn",
    "DriverInputs",
    "ScenarioInputs",
    "StoredDrivers",
    "check_stored_coverage",
    "driver_table",
    "read_stored_drivers",
    "scenario_tables",
]


@dataclass(frozen=True)
class DriverColumn:
    """One driver: its name and its observations (period labels and values), or a stored series.

    A stored driver (``series_id``, optional ``as_of``) has no labels or values; it is
    read when the request's series is, and its vintage enters the cache key.
    """

    name: str
    labels: tuple[str, ...] = ()
    values: tuple[float | None, ...] = ()
    series_id: str | None = None
    as_of: datetime | None = None

    def payload(self) -> list[Any]:
        if self.series_id is not None:
            return [self.name, {"series_id": self.series_id, "as_of": str(self.as_of)}]
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

    @property
    def stored(self) -> tuple[DriverColumn, ...]:
        """The drivers that reference stored series."""
        return tuple(c for c in self.columns if c.series_id is not None)


@dataclass(frozen=True)
class StoredDrivers:
    """The stored drivers of a request as read: one series each, and the vintages read.

    ``vintages`` (driver name, series id, vintage id) enters the forecast's cache key, so
    a new vintage of a driver series is a new forecast.
    """

    series: Mapping[str, pd.Series]
    vintages: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class ScenarioInputs:
    """Named future paths of the drivers, and whether the drivers' own errors widen the intervals."""

    paths: tuple[tuple[str, tuple[DriverColumn, ...]], ...]
    driver_uncertainty: bool = False

    @cached_property
    def digest(self) -> str:
        """sha256 of the scenarios: part of the forecast's cache key."""
        return data_hash([[[n, [c.payload() for c in cols]] for n, cols in self.paths], self.driver_uncertainty])


def _parse(
    columns: tuple[DriverColumn, ...], frequency: str, where: str, stored: Mapping[str, pd.Series] | None = None
) -> pd.DataFrame:
    parsed = {}
    for i, col in enumerate(columns):
        if col.name in parsed:
            raise InvalidDriversError(f"{where} name driver {col.name!r} twice; give each driver once.")
        if col.series_id is not None and stored is not None:
            parsed[col.name] = stored[col.name]
            continue
        name = f"{where}[{i}].data"
        parsed[col.name] = parse_series(
            col.labels, col.values, frequency=frequency, name=name, allow_gaps=True, locator=ItemLocator(name)
        )
    return pd.DataFrame(parsed)


def driver_table(
    inputs: DriverInputs | None, frequency: str, stored: StoredDrivers | None = None
) -> pd.DataFrame | None:
    """The drivers as one frame on periods of ``frequency`` (history and horizon; gaps NaN).

    Stored drivers come from ``stored`` (:func:`read_stored_drivers`).

    Raises
    ------
    InvalidSeriesError
        A label or value that does not parse (naming ``drivers[i].data[j]``).
    InvalidDriversError
        A driver named twice.
    """
    if inputs is None or not inputs.columns:
        return None
    return _parse(inputs.columns, frequency, "drivers", stored.series if stored is not None else None)


def read_stored_drivers(
    inputs: DriverInputs | None,
    store: Store,
    frequency: str,
    as_of: datetime | None,
    vintage_ids: Mapping[str, int] | None = None,
) -> StoredDrivers | None:
    """Read the stored drivers of ``inputs`` (None when there are none).

    Each is read at ``vintage_ids[name]`` when given (resolved for the cache lookup), else
    at its own ``as_of``, else at ``as_of`` (the request's: a forecast "as of" a time sees
    its drivers as they were then).

    Raises
    ------
    SeriesNotFoundError
        A driver names a series that is not stored (404, like an unknown target series).
    InvalidDriversError
        A driver series of another frequency than the forecast series.
    """
    if inputs is None or not inputs.stored:
        return None
    series: dict[str, pd.Series] = {}
    vintages = []
    for col in inputs.stored:
        assert col.series_id is not None  # stored drivers have an id
        vintage_id = (vintage_ids or {}).get(col.name)
        try:
            if vintage_id is not None:
                read = store.series.read_series(col.series_id, vintage_id=vintage_id)
            else:
                read = store.series.read_series(col.series_id, as_of=col.as_of or as_of)
        except SeriesNotFoundError as exc:
            raise SeriesNotFoundError(
                f"driver {col.name!r} names series_id {col.series_id!r}, which is not stored; store it first "
                "(POST /v1/series) or give the driver's values inline as 'data'."
            ) from exc
        if read.meta.frequency != frequency:
            raise InvalidDriversError(
                f"driver {col.name!r} (stored series {col.series_id!r}) is {read.meta.frequency}; the forecast "
                f"series is {frequency}. Store the driver at the series' frequency."
            )
        series[col.name] = read.series.astype(float)
        vintages.append((col.name, col.series_id, int(read.vintage.vintage_id)))
    return StoredDrivers(series, tuple(vintages))


def _first_missing(driver: pd.Series, periods: pd.Index) -> Any:
    """The first of ``periods`` where ``driver`` has no value (None when it covers them all)."""
    values = driver.reindex(periods).to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    return periods[bad[0]] if bad.size else None


def check_stored_coverage(
    inputs: DriverInputs,
    stored: StoredDrivers,
    index: pd.Index,
    horizon: int,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[str, ...]:
    """Check that each stored driver covers the history and the horizon; return those to extend.

    A stored driver must have a value at every period of ``index`` (the history). Over the
    horizon it must too, unless every scenario gives its path: then its own forecast
    stands in for the baseline forecast (the names returned).

    Raises
    ------
    InvalidDriversError
        A history period without a value (naming the driver, its series and the period).
    FutureDriversError
        A horizon period without a value that not every scenario supplies.
    """
    future = future_index(index, horizon)
    extend = []
    for col in inputs.stored:
        driver = stored.series[col.name]
        where = f"driver {col.name!r} (stored series {col.series_id!r})"
        gap = _first_missing(driver, index)
        if gap is not None:
            raise InvalidDriversError(
                f"{where} has no value for period {gap} of the series' history ({index[0]} to {index[-1]}); "
                "store the missing values or forecast a shorter history."
            )
        gap = _first_missing(driver, future)
        if gap is None:
            continue
        paths = list((scenarios or {}).values())
        if paths and all(col.name in t.columns and _first_missing(t[col.name], future) is None for t in paths):
            extend.append(col.name)
            continue
        raise FutureDriversError(
            f"{where} has no value for forecast period {gap} (the horizon runs from {future[0]} to {future[-1]}); "
            "store its assumed path, or give it in every scenario."
        )
    return tuple(extend)


def scenario_tables(scenarios: ScenarioInputs | None, frequency: str) -> Mapping[str, pd.DataFrame] | None:
    """Each scenario's drivers as a frame on periods of ``frequency`` (None without scenarios)."""
    if scenarios is None:
        return None
    return {name: _parse(cols, frequency, f"scenarios.{name}") for name, cols in scenarios.paths}
