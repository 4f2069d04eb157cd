"""Scenarios: one forecast per named future path of the drivers, from one fitted model.

An analyst rarely knows the drivers' future; they ask "what if oil stays at 60, or goes
to 90?". :func:`forecast_scenarios` fits the model once on the history (``y`` and ``X``)
and forecasts each scenario's ``X_future`` with intervals.

Those intervals take the scenario path as certain. With ``driver_uncertainty=True`` the
drivers are not certain: each driver gets a univariate model of its own, whose forecast
errors (its sample paths minus its point forecast) are added to the scenario path, and
each resulting driver path is fed through the model's own sample paths. The intervals are
quantiles of the pooled paths, so they carry both the model's and the drivers' errors
(wider, honestly); the mean stays the scenario's forecast. Drivers' errors are drawn
independently of each other (their correlation is not modelled).

:func:`extend_drivers` fills a driver's missing future with its own forecast, for a driver
whose known values stop before the horizon's end (a stored price series that ends today).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import (
    DEFAULT_LEVELS,
    build_model,
    check_missing,
    describe_output,
    fit_model,
    forecast,
    latest_complete_stretch,
    resolve_auto,
    with_events,
)
from forecasting.drivers import check_drivers
from forecasting.exceptions import (
    DriverForecastWarning,
    FutureDriversError,
    InvalidDriversError,
    InvalidParameterError,
    MissingNotSupportedError,
)
from forecasting.frames import MEAN, future_index, hi_col, lo_col
from forecasting.paths import summarize_paths
from forecasting.validation import (
    check_horizon,
    check_kind,
    check_levels,
    check_nonnegative,
    check_series,
    check_values_for_kind,
)

__all__ = [
    "DRIVER_ERRORS_METHOD",
    "check_scenario_options",
    "extend_drivers",
    "forecast_scenarios",
    "scenario_frames",
    "scenario_paths",
]

#: Driver paths drawn when ``driver_uncertainty`` is on; each gets ``n_paths // DRIVER_PATHS`` model paths.
DRIVER_PATHS = 100


def forecast_scenarios(
    y: pd.Series,
    horizon: int,
    X: pd.DataFrame,
    scenarios: Mapping[str, pd.DataFrame],
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    *,
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
    driver_uncertainty: bool = False,
    driver_model: str = "auto",
    n_paths: int = 2000,
    random_state: int | None = 0,
    driver_paths: int = DRIVER_PATHS,
) -> dict[str, pd.DataFrame]:
    """Forecast ``y`` under each named future path of its drivers.

    Parameters
    ----------
    y : pd.Series
        The series, as for :func:`forecasting.forecast` (gaps need ``missing="model"``).
    horizon : int
        Periods ahead (>= 1).
    X : pd.DataFrame
        The drivers over ``y``'s history (one numeric column each, no gaps).
    scenarios : mapping of str to pd.DataFrame
        Scenario name → the drivers over the ``horizon`` periods after ``y`` (``X``'s
        columns; the forecast index). At least one.
    levels, model, kind, events, missing
        As for :func:`forecasting.forecast`; the model must take drivers (``"auto"``
        chooses between the state-space models).
    driver_uncertainty : bool
        Add each driver's own forecast errors to the scenario path (see the module notes).
    driver_model : str
        The univariate model of each driver when ``driver_uncertainty`` is on.
    n_paths : int
        Pooled sample paths per scenario when ``driver_uncertainty`` is on.
    random_state : int or None
        Seed of those paths (the same seed gives the same intervals).
    driver_paths : int
        Driver paths drawn (each fed through the model for ``n_paths // driver_paths``
        model paths); the cost grows with it (one simulation of the model per path).

    Returns
    -------
    dict of str to pd.DataFrame
        Scenario name → forecast frame (``mean``, ``lo_<L>``, ``hi_<L>`` on the forecast
        index), in the order given. ``attrs`` as for :func:`forecasting.forecast`, plus
        ``driver_uncertainty``.

    Raises
    ------
    InvalidParameterError
        No scenario, a bad name, or ``n_paths`` too small for the driver paths.
    InvalidDriversError, FutureDriversError, DriversNotSupportedError
        As for :func:`forecasting.forecast`, naming the scenario.
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    check_scenario_options(scenarios, driver_uncertainty, n_paths, driver_paths)
    y, fitted = _fit_once(y, horizon, X, events, model, kind, missing)
    return scenario_frames(
        fitted,
        y,
        horizon,
        X,
        scenarios,
        levels,
        model,
        events=events,
        driver_uncertainty=driver_uncertainty,
        driver_model=driver_model,
        n_paths=n_paths,
        random_state=random_state,
        driver_paths=driver_paths,
    )


def check_scenario_options(
    scenarios: Mapping[str, pd.DataFrame], driver_uncertainty: bool, n_paths: int, driver_paths: int = DRIVER_PATHS
) -> None:
    """Refuse an empty or badly named set of scenarios, or path counts out of range, before any fit.

    Raises
    ------
    InvalidParameterError
        No scenario, a name that is no non-empty string, or ``n_paths`` / ``driver_paths``
        out of range when ``driver_uncertainty`` is on.
    """
    if not isinstance(scenarios, Mapping) or not scenarios:
        raise InvalidParameterError("scenarios must map at least one name to a frame of future drivers.")
    for name in scenarios:
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(f"scenario names must be non-empty strings; got {name!r}.")
    if driver_uncertainty and not _is_count(driver_paths, 10, 10_000):
        raise InvalidParameterError(f"driver_paths must be an integer in 10..10000; got {driver_paths!r}.")
    if driver_uncertainty and not _is_count(n_paths, driver_paths, 100_000):
        raise InvalidParameterError(
            f"n_paths must be an integer in {driver_paths}..100000 (at least driver_paths); got {n_paths!r}."
        )


#: What :func:`scenario_frames` says of intervals that carry the drivers' own errors.
DRIVER_ERRORS_METHOD = "pooled sample paths under each driver's own forecast errors (driver_uncertainty)"


def scenario_frames(
    fitted: BaseForecaster,
    y: pd.Series,
    horizon: int,
    X: pd.DataFrame,
    scenarios: Mapping[str, pd.DataFrame],
    levels: tuple[int, ...],
    model: str | BaseForecaster,
    *,
    events: Sequence[Mapping[str, Any]] | None = None,
    driver_uncertainty: bool = False,
    driver_model: str = "auto",
    n_paths: int = 2000,
    random_state: int | None = 0,
    driver_paths: int = DRIVER_PATHS,
) -> dict[str, pd.DataFrame]:
    """The forecast frame of each scenario from ``fitted`` (fitted on ``y`` and ``X``); no refit.

    Parameters are those of :func:`forecast_scenarios` (already checked), ``X`` without the
    events' columns. With ``driver_uncertainty`` the frames' ``interval_method`` says that
    the drivers' own errors are in the intervals (:data:`DRIVER_ERRORS_METHOD`).

    Raises
    ------
    FutureDriversError
        A scenario's drivers that do not cover the horizon, naming the scenario.
    """
    out = {}
    for name, path in scenarios.items():
        _, future = with_events(y, horizon, X, _named(path, name), events)
        try:
            if driver_uncertainty:
                frame = _with_driver_errors(
                    fitted, X, future, horizon, levels, driver_model, (driver_paths, n_paths), random_state
                )
            else:
                frame = fitted.predict(horizon, levels=levels, X_future=future)
        except FutureDriversError as exc:
            raise FutureDriversError(f"scenario {name!r}: {exc}") from exc
        frame = describe_output(frame, fitted, model, y)
        frame.attrs["driver_uncertainty"] = bool(driver_uncertainty)
        if driver_uncertainty:
            frame.attrs["interval_method"] = f"{DRIVER_ERRORS_METHOD}; the model: {frame.attrs['interval_method']}"
        out[name] = frame
    return out


def _is_count(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _named(path: Any, name: str) -> Any:
    """The scenario's frame (a Series becomes one column); errors later name the scenario."""
    if isinstance(path, pd.Series):
        return path.to_frame()
    if not isinstance(path, pd.DataFrame):
        raise InvalidParameterError(
            f"scenario {name!r} must be a DataFrame of future drivers; got {type(path).__name__}."
        )
    return path


def _fit_once(
    y: pd.Series,
    horizon: int,
    X: pd.DataFrame,
    events: Sequence[Mapping[str, Any]] | None,
    model: str | BaseForecaster,
    kind: str,
    missing: str,
) -> tuple[pd.Series, BaseForecaster]:
    """Validate like :func:`forecasting.forecast` and fit the model once on ``y`` and its drivers."""
    kind = check_kind(kind)
    y = check_missing(check_series(y, allow_missing=True), missing)
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, None)
    X = check_drivers(X, y.index)
    X_full, _ = with_events(y, horizon, X, None, events)
    template = build_model(resolve_auto(model, X_full, missing), kind, nonnegative=censor)
    if missing == "model" and not template._takes_missing():
        raise MissingNotSupportedError(f"model {model!r} cannot fit a series with gaps; use 'auto' or 'structural'.")
    return y, template.fit(y, X_full)


def _driver_errors(
    X: pd.DataFrame, horizon: int, n: int, driver_model: str, random_state: int | None
) -> dict[str, np.ndarray]:
    """Each driver's forecast errors, ``(horizon, n)``: its sample paths minus its point forecast."""
    rng = np.random.default_rng(random_state)
    errors = {}
    for col in X.columns:
        fitted = fit_model(X[col].rename(str(col)), driver_model, nonnegative=False)
        paths = fitted.sample_paths(horizon, n, random_state=int(rng.integers(2**31 - 1))).to_numpy()
        point = fitted.predict(horizon)[MEAN].to_numpy()
        errors[str(col)] = paths - point[:, None]
    return errors


def _with_driver_errors(
    fitted: BaseForecaster,
    X: pd.DataFrame,
    future: pd.DataFrame,
    horizon: int,
    levels: tuple[int, ...],
    driver_model: str,
    counts: tuple[int, int],
    random_state: int | None,
) -> pd.DataFrame:
    """The scenario's forecast with intervals from model paths under perturbed driver paths.

    ``counts`` is ``(driver paths, pooled paths)``.
    """
    base = fitted.predict(horizon, levels=levels, X_future=future)
    k_paths, n_paths = counts
    errors = _driver_errors(X, horizon, k_paths, driver_model, random_state)
    per_path = n_paths // k_paths
    rng = np.random.default_rng(None if random_state is None else random_state + 1)
    pooled = []
    for k in range(k_paths):
        shifted = future.copy()
        for col, err in errors.items():
            shifted[col] = future[col].to_numpy() + err[:, k]
        seed = int(rng.integers(2**31 - 1))
        pooled.append(fitted.sample_paths(horizon, per_path, random_state=seed, X_future=shifted).to_numpy())
    summary = summarize_paths(np.hstack(pooled), base.index, levels)
    mean = base[MEAN].to_numpy()
    for lv in levels:
        # The mean stays the scenario's point forecast; bounds never cross it.
        base[lo_col(lv)] = np.minimum(summary[lo_col(lv)].to_numpy(), mean)
        base[hi_col(lv)] = np.maximum(summary[hi_col(lv)].to_numpy(), mean)
    return base


def extend_drivers(
    drivers: pd.DataFrame, index: pd.Index, horizon: int, columns: Sequence[str], model: str = "auto"
) -> pd.DataFrame:
    """Fill the horizon periods that ``columns`` of ``drivers`` lack with each driver's own forecast.

    For a driver whose known values stop before the end of the horizon (a stored price
    series that ends today): its latest unbroken stretch is forecast by ``model`` (a
    univariate model) up to the horizon's end, and that forecast's mean stands in for the
    missing horizon periods. Values given are kept; the history is not touched (a gap
    there stays an error of :func:`split_drivers`). Each filled driver emits a
    :class:`~forecasting.exceptions.DriverForecastWarning` naming it, the first filled
    period and the model, since the forecast of ``y`` then rests on a forecast of its driver.

    Parameters
    ----------
    drivers : pd.DataFrame
        One column per driver, by period (as for :func:`split_drivers`).
    index : pd.Index
        ``y``'s index.
    horizon : int
        Forecast periods after ``index``.
    columns : sequence of str
        The drivers that may be filled (others are left as they are).
    model : str
        Registered univariate model for the drivers' own forecasts.

    Returns
    -------
    pd.DataFrame
        ``drivers`` reindexed to cover at least the horizon, the gaps of ``columns`` in the
        horizon filled.

    Raises
    ------
    InvalidDriversError
        A driver named in ``columns`` with no values at all.
    """
    future = future_index(index, horizon)
    frame = drivers.reindex(drivers.index.union(future))
    for col in columns:
        missing = future[frame[col].reindex(future).isna().to_numpy()]
        if not len(missing):
            continue
        known, _ = latest_complete_stretch(frame.loc[: missing[0], col].iloc[:-1].astype(float))
        if known.empty:
            raise InvalidDriversError(f"driver {col!r} has no values before {missing[0]} to forecast it from.")
        ahead = future_index(known.index, len(frame) + horizon)
        steps = int(ahead.get_loc(future[-1])) + 1
        mean = forecast(known.rename(col), steps, (), model)["mean"]
        frame.loc[missing, col] = mean.reindex(missing).to_numpy()
        warnings.warn(
            DriverForecastWarning(
                f"driver {col!r} has no values from {missing[0]} on; its own forecast ({model}, fitted on "
                f"{len(known)} values to {known.index[-1]}) stands in for {len(missing)} horizon period(s), so "
                "the forecast rests on a forecast of the driver and its intervals leave out that uncertainty."
            ),
            stacklevel=2,
        )
    return frame


def scenario_paths(X_future: pd.DataFrame | None, scenarios: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each scenario's drivers over the horizon: the baseline ``X_future`` with the scenario's columns replaced.

    The one rule for a scenario whose path does not cover the horizon: it is a
    :class:`~forecasting.exceptions.FutureDriversError` naming the scenario, the driver and
    the first period without a value (REST answers it with 422; a report leaves the scenario
    out with that message as its note).

    Parameters
    ----------
    X_future : pd.DataFrame or None
        The baseline drivers over the horizon (None: the forecast has no drivers).
    scenarios : mapping of str to pd.DataFrame
        Scenario name → the drivers it sets, by period (other periods are ignored).

    Raises
    ------
    InvalidParameterError
        Scenarios without drivers.
    FutureDriversError
        A scenario that sets a driver not among the drivers, or lacks a horizon period.
    """
    if X_future is None:
        raise InvalidParameterError(
            "scenarios need 'drivers': their history and their baseline values over the horizon."
        )
    out = {}
    for name, table in scenarios.items():
        unknown = sorted(set(table.columns) - set(X_future.columns))
        if unknown:
            raise FutureDriversError(
                f"scenario {name!r} sets driver(s) {unknown} that are not among the drivers {list(X_future.columns)}."
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
