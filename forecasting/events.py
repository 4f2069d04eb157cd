"""Known events (sanctions, a new payment system, a one-off strike) turned into drivers.

An event is a mapping with a date ``ds`` (a period label such as ``"2022-03"`` or a date),
a ``type`` and, for a ramp, an optional ``end``::

    [{"ds": "2022-03", "type": "level_shift"},
     {"ds": "2020-04", "type": "pulse"},
     {"ds": "2022-03", "type": "ramp", "end": "2022-09"},
     {"ds": "2022-03", "type": "seasonal_change"}]

:func:`event_regressors` turns them into driver columns on the history (``X``) and over the
horizon (``X_future``), which :func:`forecasting.forecast` passes to the models that take
drivers (``regression_arima``, ``structural``, ``auto``). Each column's coefficient is then
estimated with the model, so an event says *when* and *what shape*, never *how large*.

=================== ================================================================
type                column(s), with t the period and t0 the event's period
=================== ================================================================
``level_shift``     1 from t0 on, 0 before: a permanent change of level
``pulse``           1 at t0 only: a one-period outlier (strike, holiday, data glitch)
``ramp``            0 up to t0, rising linearly to 1 at ``end`` and 1 after it (the
                    coefficient is the total shift, reached gradually); without ``end``
                    the number of periods since t0, 0 at t0 (a change of slope)
``seasonal_change`` from t0 on, ``season_length - 1`` effect-coded season columns (1 in
                    season s, -1 in the season's last period, 0 elsewhere): the seasonal
                    pattern changes, the annual level does not
=================== ================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from forecasting.exceptions import EventOutOfRangeError, InvalidEventError, UnknownEventTypeError
from forecasting.validation import infer_season_length

__all__ = ["EVENT_TYPES", "EventDrivers", "event_regressors"]

#: The event types :func:`event_regressors` understands.
EVENT_TYPES = ("level_shift", "pulse", "ramp", "seasonal_change")

_KEYS = frozenset({"ds", "type", "end", "name"})


class EventDrivers(NamedTuple):
    """Event columns on the history (``X``) and over the horizon (``X_future``)."""

    X: pd.DataFrame
    X_future: pd.DataFrame


def event_regressors(index: pd.Index, events: Sequence[Mapping[str, Any]], horizon: int = 0) -> EventDrivers:
    """Turn known events into driver columns on ``index`` and the ``horizon`` after it.

    Parameters
    ----------
    index : pd.PeriodIndex or pd.DatetimeIndex
        The series' index (regular, with ``freq``).
    events : sequence of mapping
        Each with ``ds`` (period label or date), ``type`` (one of :data:`EVENT_TYPES`),
        optionally ``end`` (ramps only; after ``ds``) and ``name`` (the column name; by
        default ``<type>_<ds>``).
    horizon : int
        Number of periods after ``index`` to build ``X_future`` for (0: an empty frame).

    Returns
    -------
    EventDrivers
        ``X`` indexed like ``index`` and ``X_future`` on the ``horizon`` periods after it,
        with the same float columns.

    Raises
    ------
    InvalidEventError
        An event that is not a mapping, has no readable ``ds``, unknown keys, an ``end``
        on a type other than ramp or not after ``ds``, or two events with one column name.
    UnknownEventTypeError
        A ``type`` other than the four known.
    EventOutOfRangeError
        An event dated before the series or after the horizon, or one whose columns are
        constant on the history (its effect could not be estimated: dated at the first
        period, after the last, or a seasonal change with less than a season after it).
    """
    if isinstance(events, Mapping | str) or not isinstance(events, Sequence):
        raise InvalidEventError(f"events must be a list of mappings; got {type(events).__name__}.")
    periods = _as_periods(index)
    n = len(periods)
    full = pd.period_range(periods[0], periods=n + horizon, freq=periods.freq)
    columns: dict[str, np.ndarray] = {}
    for i, event in enumerate(events):
        for name, values in _event_columns(event, i, full, n).items():
            if name in columns:
                raise InvalidEventError(f"events[{i}] gives the column {name!r} twice; give it another 'name'.")
            columns[name] = values
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n + horizon), dtype=float)
    future_index = _future_index(index, horizon)
    X = frame.iloc[:n].set_axis(index)
    X_future = frame.iloc[n:].set_axis(future_index)
    return EventDrivers(X, X_future)


def _as_periods(index: pd.Index) -> pd.PeriodIndex:
    if isinstance(index, pd.PeriodIndex):
        return index
    if isinstance(index, pd.DatetimeIndex) and index.freq is not None:
        return index.to_period()
    raise InvalidEventError(
        f"events need a series with a regular PeriodIndex or DatetimeIndex with freq; got {type(index).__name__}."
    )


def _future_index(index: pd.Index, horizon: int) -> pd.Index:
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    return pd.date_range(index[-1] + index.freq, periods=horizon, freq=index.freq)


def _event_columns(event: Any, i: int, full: pd.PeriodIndex, n: int) -> dict[str, np.ndarray]:
    """The column(s) of the ``i``-th event over ``full`` (history of ``n`` periods, then horizon)."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"events[{i}] must be a mapping with 'ds' and 'type'; got {event!r}.")
    extra = sorted(set(event) - _KEYS)
    if extra:
        raise InvalidEventError(f"events[{i}] has unknown key(s) {extra}; allowed: {sorted(_KEYS)}.")
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise UnknownEventTypeError(f"events[{i}].type is {kind!r}; known event types: {list(EVENT_TYPES)}.")
    start = _position(event, "ds", i, full, n)
    label = str(event.get("name") or f"{kind}_{full[start]}")
    t = np.arange(len(full), dtype=float)
    if event.get("end") is not None and kind != "ramp":
        raise InvalidEventError(f"events[{i}] is a {kind}; only a ramp takes 'end'.")
    if kind == "level_shift":
        cols = {label: (t >= start).astype(float)}
    elif kind == "pulse":
        cols = {label: (t == start).astype(float)}
    elif kind == "ramp":
        cols = {label: _ramp(event, i, full, n, start, t)}
    else:
        cols = _seasonal_change(label, i, full, start, t)
        if n - start < len(cols) + 1:
            # fewer than a season after the change: its season columns are collinear on the history
            raise EventOutOfRangeError(
                f"events[{i}] (seasonal_change at {full[start]}) leaves {n - start} period(s) of history after it; "
                f"its effect cannot be estimated without a full season ({len(cols) + 1} periods) after it."
            )
    for values in cols.values():
        if np.ptp(values[:n]) == 0.0:
            raise EventOutOfRangeError(
                f"events[{i}] ({kind} at {full[start]}) is constant over the history ({full[0]} to {full[n - 1]}), "
                "so its effect cannot be estimated; date it after the first period and within the history "
                "(a seasonal change needs a full season after it)."
            )
    return cols


def _position(event: Mapping[str, Any], key: str, i: int, full: pd.PeriodIndex, n: int) -> int:
    """The position of ``event[key]`` in ``full``, refusing a date before or after it."""
    raw = event.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidEventError(f"events[{i}] has no {key!r}; give a period such as '2022-03'.")
    try:
        period = pd.Period(raw, freq=full.freq)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"events[{i}].{key} = {raw!r} is not a period or date.") from exc
    if period < full[0] or period > full[-1]:
        last = "the last period" if len(full) == n else "the end of the horizon"
        raise EventOutOfRangeError(
            f"events[{i}].{key} = {raw!r} ({period}) is outside the series and horizon, "
            f"{full[0]} to {full[-1]} ({last})."
        )
    return int((period - full[0]).n)


def _ramp(event: Mapping[str, Any], i: int, full: pd.PeriodIndex, n: int, start: int, t: np.ndarray) -> np.ndarray:
    if event.get("end") is None:
        return np.asarray(np.clip(t - start, 0.0, None), dtype=float)
    stop = _position(event, "end", i, full, n)
    if stop <= start:
        raise InvalidEventError(f"events[{i}].end ({full[stop]}) must come after its ds ({full[start]}).")
    return np.clip((t - start) / (stop - start), 0.0, 1.0)


def _seasonal_change(label: str, i: int, full: pd.PeriodIndex, start: int, t: np.ndarray) -> dict[str, np.ndarray]:
    m = infer_season_length(full)
    if m < 2:
        raise InvalidEventError(
            f"events[{i}] is a seasonal_change, but a series of frequency {full.freqstr!r} has no season."
        )
    after = (t >= start).astype(float)
    # Season position by calendar (month or quarter of the year), so columns mean the same
    # thing whatever the series' first period is.
    season = np.asarray(full.month if m == 12 else full.quarter) - 1
    cols = {}
    for s in range(m - 1):
        coded = np.where(season == s, 1.0, np.where(season == m - 1, -1.0, 0.0))
        cols[f"{label}_s{s + 1:02d}"] = coded * after
    return cols
