"""Drivers, events and scenarios in a report definition's per-series options.

A definition's ``series_options[<series id>]`` may carry, next to the string options
(``missing``, ``kind``, ``model``, ``check_breaks``):

- ``drivers``: stored series ids (each driver named by its id), or a mapping of driver
  name to stored series id;
- ``events``: known events as in the forecast API (``{"ds": "2022-03", "type":
  "level_shift"}``; types ``level_shift``, ``pulse``, ``ramp``, ``seasonal_change``);
- ``scenarios``: scenario name -> {driver name -> stored series id holding that path};
- ``driver_uncertainty``: ``true`` to add the drivers' own forecast errors to the
  scenarios' intervals.

All of it is plain JSON in the definition's spec (no schema change). :func:`check_driver_options`
validates it when a definition is made; :func:`driver_spec` turns it into a
:class:`DriverSpec` for a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forecasting.events import EVENT_TYPES
from forecasting.exceptions import InvalidParameterError

__all__ = ["DRIVER_OPTIONS", "DriverSpec", "check_driver_options", "driver_spec"]

#: The per-series options that hold drivers, events and scenarios.
DRIVER_OPTIONS = ("drivers", "events", "scenarios", "driver_uncertainty")
_EVENT_KEYS = frozenset({"ds", "type", "end", "name"})
_MAX_ITEMS = 20


@dataclass(frozen=True)
class DriverSpec:
    """The drivers, events and scenarios of one series in a report (all stored series by id)."""

    drivers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    scenarios: dict[str, dict[str, str]] = field(default_factory=dict)
    driver_uncertainty: bool = False

    @property
    def series_ids(self) -> list[str]:
        """Every stored series the spec reads (drivers, then scenario paths), once each."""
        ids = list(self.drivers.values())
        ids += [sid for path in self.scenarios.values() for sid in path.values()]
        return list(dict.fromkeys(ids))


def _is_name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 100


def _drivers(where: str, value: object) -> dict[str, str]:
    if isinstance(value, list) and value and all(_is_name(v) for v in value):
        if len(set(value)) != len(value):
            raise InvalidParameterError(f"{where}.drivers names a series twice: {value!r}.")
        return {v: v for v in value}
    if isinstance(value, dict) and value and all(_is_name(k) and _is_name(v) for k, v in value.items()):
        return dict(value)
    raise InvalidParameterError(
        f"{where}.drivers must be a non-empty list of stored series ids, or a mapping of driver name to stored "
        f"series id; got {value!r}."
    )


def _events(where: str, value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value or len(value) > _MAX_ITEMS:
        raise InvalidParameterError(f"{where}.events must be a list of 1-{_MAX_ITEMS} events; got {value!r}.")
    for i, event in enumerate(value):
        if not isinstance(event, dict) or not isinstance(event.get("ds"), str) or not event["ds"]:
            raise InvalidParameterError(
                f"{where}.events[{i}] must be a mapping with 'ds' (a period such as '2022-03') and 'type'; "
                f"got {event!r}."
            )
        unknown = sorted(set(event) - _EVENT_KEYS)
        if unknown:
            raise InvalidParameterError(
                f"{where}.events[{i}] has unknown key(s) {unknown}; allowed: ds, type, end, name."
            )
        if event.get("type") not in EVENT_TYPES:
            raise InvalidParameterError(
                f"{where}.events[{i}].type must be one of {list(EVENT_TYPES)}; got {event.get('type')!r}."
            )
        if not all(isinstance(event.get(k, ""), str) for k in ("end", "name")):
            raise InvalidParameterError(f"{where}.events[{i}]: 'end' and 'name' must be strings; got {event!r}.")
    return [dict(e) for e in value]


def _scenarios(where: str, value: object, drivers: Mapping[str, str]) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict) or not value or len(value) > _MAX_ITEMS:
        raise InvalidParameterError(
            f"{where}.scenarios must map 1-{_MAX_ITEMS} scenario names to {{driver name: stored series id}}; "
            f"got {value!r}."
        )
    if not drivers:
        raise InvalidParameterError(f"{where}.scenarios need 'drivers': a scenario is a path of the drivers.")
    for name, path in value.items():
        if not _is_name(name) or not isinstance(path, dict) or not path:
            raise InvalidParameterError(
                f"{where}.scenarios[{name!r}] must map driver names to stored series ids; got {path!r}."
            )
        unknown = sorted(k for k in path if k not in drivers)
        if unknown:
            raise InvalidParameterError(
                f"{where}.scenarios[{name!r}] sets driver(s) {unknown} that are not among the drivers "
                f"{sorted(drivers)}."
            )
        if not all(_is_name(v) for v in path.values()):
            raise InvalidParameterError(f"{where}.scenarios[{name!r}] must give a stored series id per driver.")
    return {name: dict(path) for name, path in value.items()}


def check_driver_options(series_id: str, options: Mapping[str, Any]) -> DriverSpec | None:
    """Validate the drivers, events and scenarios of one series' options (None when there are none).

    Raises
    ------
    InvalidParameterError
        Naming ``series_options[<id>].<option>``, the value and what is allowed.
    """
    where = f"series_options[{series_id!r}]"
    if not any(key in options for key in DRIVER_OPTIONS):
        return None
    drivers = _drivers(where, options["drivers"]) if "drivers" in options else {}
    events = _events(where, options["events"]) if "events" in options else []
    scenarios = _scenarios(where, options["scenarios"], drivers) if "scenarios" in options else {}
    uncertainty = options.get("driver_uncertainty", False)
    if not isinstance(uncertainty, bool):
        raise InvalidParameterError(f"{where}.driver_uncertainty must be true or false; got {uncertainty!r}.")
    if uncertainty and not scenarios:
        raise InvalidParameterError(f"{where}.driver_uncertainty applies to scenarios; give 'scenarios' too.")
    return DriverSpec(drivers, events, scenarios, uncertainty)


def driver_spec(series_id: str, options: Mapping[str, Any]) -> DriverSpec | None:
    """The :class:`DriverSpec` of one series' options, for a run (None without drivers or events)."""
    return check_driver_options(series_id, options)
