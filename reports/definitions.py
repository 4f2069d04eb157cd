"""Report definitions: what a report contains and when it runs.

A definition names the series (ids, or tags matched in the store), the horizon, the
interval levels, the forecasting model and a cron schedule with its time zone. It is
plain data; :mod:`reports.store` persists it and :mod:`reports.scheduler` reads it.

Cron expressions use the standard five fields ``minute hour day month day_of_week``
(day of week 0 or 7 = Sunday, as in Vixie cron), or six fields with a leading
``second`` field for sub-minute schedules.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from forecasting.exceptions import InvalidParameterError
from forecasting.registry import list_models

__all__ = [
    "DEFAULT_SCHEDULE",
    "FORMATS",
    "ReportDefinition",
    "build_trigger",
    "check_definition",
    "check_name",
]

DEFAULT_SCHEDULE = "0 7 * * 1"
#: Output formats a definition may ask for. HTML is always produced.
FORMATS = ("html",)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CRON_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_HORIZON = 120


@dataclass(frozen=True)
class ReportDefinition:
    """A scheduled forecast report.

    Parameters
    ----------
    name : str
        Lowercase slug (``[a-z0-9][a-z0-9_-]*``), unique; used in URLs and run keys.
    title : str
        Heading of the rendered report.
    series_ids : sequence of str
        Series to include, in this order.
    tags : dict of str to str
        Series carrying all these tags (the store's ``list_series(tags=...)``) are added
        after ``series_ids``, ordered by id.
    horizon : int
        Periods ahead to forecast (1..120).
    levels : sequence of int
        Interval levels in percent, e.g. ``(80, 95)``.
    model : str
        Registered forecasting model name; ``"auto"`` selects one by backtest.
    schedule : str or None
        Cron expression (see module docstring); ``None`` for on-demand reports only.
    timezone : str
        IANA time zone in which ``schedule`` is read.
    formats : sequence of str
        Output formats; only ``"html"`` is supported.
    description : str
        Free text shown under the title.
    enabled : bool
        Disabled reports are not scheduled but can still be run by hand.
    """

    name: str
    title: str = ""
    series_ids: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    horizon: int = 6
    levels: tuple[int, ...] = (80, 95)
    model: str = "auto"
    schedule: str | None = DEFAULT_SCHEDULE
    timezone: str = "UTC"
    formats: tuple[str, ...] = ("html",)
    description: str = ""
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able mapping of every field."""
        out = dataclasses.asdict(self)
        for key in ("series_ids", "levels", "formats"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportDefinition:
        """Build and check a definition from a mapping (unknown keys are refused)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidParameterError(f"unknown report definition fields: {', '.join(unknown)}.")
        values = dict(data)
        for key in ("series_ids", "levels", "formats"):
            if key in values and values[key] is not None:
                values[key] = tuple(values[key])
        if values.get("tags") is None:
            values.pop("tags", None)
        return check_definition(cls(**values))


def check_name(name: object) -> str:
    """Return ``name`` if it is a valid report name, else raise InvalidParameterError."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidParameterError(
            f"report name must be 1-64 characters of lowercase letters, digits, '-' or '_', "
            f"starting with a letter or digit; got {name!r}."
        )
    return name


def check_definition(definition: ReportDefinition) -> ReportDefinition:
    """Validate ``definition`` and return it normalised (title defaulted, levels sorted).

    Raises
    ------
    InvalidParameterError
        Naming the first field that is invalid, its value and the constraint.
    """
    check_name(definition.name)
    if not definition.series_ids and not definition.tags:
        raise InvalidParameterError(f"report {definition.name!r} selects no series: give series_ids or tags.")
    if not all(isinstance(v, str) and v for v in definition.series_ids):
        raise InvalidParameterError(f"series_ids must be non-empty strings; got {list(definition.series_ids)!r}.")
    tags = definition.tags
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise InvalidParameterError(f"tags must map strings to strings; got {tags!r}.")
    horizon = definition.horizon
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= _MAX_HORIZON:
        raise InvalidParameterError(f"horizon must be an integer in 1..{_MAX_HORIZON}; got {horizon!r}.")
    levels = definition.levels
    if not levels or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 99 for v in levels):
        raise InvalidParameterError(f"levels must be one or more integers in 1..99; got {list(levels)!r}.")
    if not isinstance(definition.model, str) or definition.model not in list_models():
        raise InvalidParameterError(
            f"model must be a registered model name ({', '.join(list_models())}); got {definition.model!r}."
        )
    bad = [f for f in definition.formats if f not in FORMATS]
    if bad or not definition.formats:
        raise InvalidParameterError(
            f"formats must be a non-empty subset of {list(FORMATS)}; got {list(definition.formats)!r} "
            "(PDF output is not implemented)."
        )
    if definition.schedule is not None:
        build_trigger(definition.schedule, definition.timezone)
    else:
        _check_timezone(definition.timezone)
    return dataclasses.replace(
        definition,
        title=definition.title or definition.name,
        levels=tuple(sorted(set(definition.levels))),
        series_ids=tuple(dict.fromkeys(definition.series_ids)),
        tags=dict(definition.tags),
    )


def _check_timezone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidParameterError(
            f"timezone must be an IANA time zone name such as 'UTC' or 'Europe/Moscow'; got {timezone!r}."
        ) from None


def build_trigger(schedule: str, timezone: str = "UTC") -> CronTrigger:
    """An APScheduler cron trigger for ``schedule`` read in ``timezone``.

    Five fields are ``minute hour day month day_of_week``; six fields put ``second``
    first. Numeric days of week follow cron (0 and 7 are Sunday); APScheduler counts
    from Monday, so they are translated to day names here.

    Raises
    ------
    InvalidParameterError
        If the expression or the time zone is invalid.
    """
    tz = _check_timezone(timezone)
    if not isinstance(schedule, str):
        raise InvalidParameterError(f"schedule must be a cron expression string; got {schedule!r}.")
    fields = schedule.split()
    if len(fields) == 5:
        second, (minute, hour, day, month, dow) = "0", fields
    elif len(fields) == 6:
        second, minute, hour, day, month, dow = fields
    else:
        raise InvalidParameterError(
            f"schedule must be a cron expression of 5 fields (minute hour day month day_of_week) "
            f"or 6 (with seconds first); got {schedule!r}."
        )
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_translate_dow(dow),
            timezone=tz,
        )
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"invalid cron expression {schedule!r}: {exc}.") from None


def _translate_dow(field_: str) -> str:
    """Cron day-of-week field (0/7 = Sunday) → APScheduler field of day names."""
    if field_ in ("*", "?"):
        return "*"
    days: list[str] = []
    for item in field_.split(","):
        days.extend(_expand_dow_item(item.lower()))
    return ",".join(dict.fromkeys(days))


def _expand_dow_item(item: str) -> Sequence[str]:
    base, _, step_text = item.partition("/")
    step = _dow_int(step_text) if step_text else 1
    if step < 1:
        raise InvalidParameterError(f"day_of_week step must be >= 1; got {item!r}.")
    if base == "*":
        lo, hi = 0, 6
    elif "-" in base:
        lo_text, hi_text = base.split("-", 1)
        lo, hi = _dow_number(lo_text), _dow_number(hi_text)
        if hi == 0 and lo > 0:
            hi = 7  # "5-0" and "5-7" both mean Friday to Sunday
    else:
        if step_text:
            lo, hi = _dow_number(base), 7
        else:
            return [_CRON_DOW_NAMES[_dow_number(base)]]
    if lo > hi:
        raise InvalidParameterError(f"day_of_week range must run forwards; got {item!r}.")
    return [_CRON_DOW_NAMES[d] for d in range(lo, hi + 1, step)]


def _dow_number(text: str) -> int:
    if text in _CRON_DOW_NAMES:
        return _CRON_DOW_NAMES.index(text)
    value = _dow_int(text)
    if not 0 <= value <= 7:
        raise InvalidParameterError(f"day_of_week values must be 0-7 or day names; got {text!r}.")
    return value


def _dow_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidParameterError(f"invalid day_of_week value {text!r} in cron expression.") from None
