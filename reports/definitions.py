"""Report definitions: what a report contains and when it runs.

A definition names the series (ids, or tags matched in the store), the horizon, the
interval levels, the forecasting model and a cron schedule with its time zone. It is
plain data; :mod:`reports.store` persists it and :mod:`reports.scheduler` reads it.

Cron expressions use the standard five fields ``minute hour day month day_of_week``
(day of week 0 or 7 = Sunday, as in Vixie cron). Six fields (a leading ``second``) are
refused: a report is a forecast run of seconds to minutes, and a per-second schedule only
queues runs back to back. (A service started with ``TRADECAST_SCHEDULE_SECONDS=1``, which
only a development or test service accepts, takes them, so that tests of the scheduler need
not wait minutes: ``seconds=True`` below.)

Day of month and day of week combine as in Vixie cron: when both are restricted (neither
starts with ``*``), a day matches if it matches *either* (``0 7 1 * 1`` fires on the 1st
of each month and on every Monday); when one of them starts with ``*`` (``*``, ``*/2``),
both must match. A schedule that can never fire (``0 0 30 2 *``: there is no 30 February)
is refused when the definition is made, naming the fields, rather than accepted and
searched for on every listing and scheduler refresh. When only one side of an either-day
schedule can fire (``0 0 30 2 1``: never the 30th of February, every Monday in February),
the trigger is built from that side alone, so no search ever walks to the year 9999.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from forecasting.exceptions import InvalidParameterError
from forecasting.fit import TRANSFORMS
from forecasting.registry import get_model, list_models
from reports.delivery import DeliveryTarget, check_delivery
from reports.driver_options import DRIVER_OPTIONS, check_driver_options
from reports.exceptions import ScheduleNeverFiresError

__all__ = [
    "DEFAULT_SCHEDULE",
    "FORMATS",
    "MISSING_OPTIONS",
    "ReportDefinition",
    "build_trigger",
    "check_definition",
    "check_name",
    "check_title",
]

DEFAULT_SCHEDULE = "0 7 * * 1"
#: Output formats a definition may ask for. HTML is always produced (and stored with the run);
#: PDF and Excel files are written next to it in the report directory.
FORMATS = ("html", "pdf", "xlsx")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CRON_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_HORIZON = 120
_MAX_TITLE = 300  # the column's width
# A day-of-month/month/weekday combination that fires at all fires within 28 years (the
# weekday cycle of the calendar, 29 February included); 30 leaves a margin for the
# non-leap century years. Searching a bounded window keeps the check at ~1 ms, where
# APScheduler's own search for a never-firing trigger walks to the year 9999 (~1.4 s).
_FIRE_WINDOW = timedelta(days=366 * 30)


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
        Files written per run when a report directory is set: ``"html"`` (always), ``"pdf"``
        (headless Chromium) and ``"xlsx"`` (one sheet per series).
    description : str
        Free text shown under the title.
    enabled : bool
        Disabled reports are not scheduled but can still be run by hand.
    delivery : DeliveryTarget or None
        Where each successful run is sent (e-mail recipients, a webhook URL); ``None``
        sends nothing (see :mod:`reports.delivery`).
    series_options : dict of str to dict
        Per-series settings by series id, each a mapping of ``missing`` (``"error"``,
        ``"latest_stretch"``: both fit the latest unbroken stretch of a series with gaps and
        say what was left out, or ``"model"``: fit through gaps with a model that skips
        them; see :data:`MISSING_OPTIONS`), ``model`` (a registered
        name, instead of the report's), ``kind`` (``"level"`` or ``"share"``, instead of
        the stored kind), ``transform`` (``"none"`` or ``"log"``: fit a level series' model on
        the log scale, as REST's and the command line's ``transform``) and ``check_breaks``
        (``"true"``: scan the history for structural breaks and say so next to the forecast,
        "a break near 2022-03; intervals may be too narrow"); and ``drivers``, ``events``,
        ``scenarios``, ``driver_uncertainty`` (stored series as drivers, known events,
        scenarios of the drivers: see :mod:`reports.driver_options`).
    structures : sequence of str
        Stored structures (hierarchies, compositions) shown after the series, by name.
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
    delivery: DeliveryTarget | None = None
    series_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    structures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able mapping of every field."""
        out = dataclasses.asdict(self)
        for key in ("series_ids", "levels", "formats", "structures"):
            out[key] = list(out[key])
        out["delivery"] = self.delivery.to_dict() if self.delivery is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, check_schedule: bool = True, seconds: bool = False) -> ReportDefinition:
        """Build and check a definition from a mapping (unknown keys are refused).

        ``check_schedule=False`` is for definitions read back from the store: they were
        checked when written, and one written before a rule was added (a schedule that
        never fires) must stay readable; the scheduler skips its schedule.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidParameterError(f"unknown report definition fields: {', '.join(unknown)}.")
        values = dict(data)
        for key in ("series_ids", "levels", "formats", "structures"):
            if key in values and values[key] is not None:
                values[key] = tuple(values[key])
        for key in ("tags", "series_options"):
            if values.get(key) is None:
                values.pop(key, None)
        if values.get("delivery") is not None:
            values["delivery"] = DeliveryTarget.from_dict(values["delivery"])
        return check_definition(cls(**values), check_schedule=check_schedule, seconds=seconds)


def check_name(name: object) -> str:
    """Return ``name`` if it is a valid report name, else raise InvalidParameterError."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidParameterError(
            f"report name must be 1-64 characters of lowercase letters, digits, '-' or '_', "
            f"starting with a letter or digit; got {name!r}."
        )
    return name


def check_title(title: object) -> str:
    """Return ``title`` if it fits on one line of a heading and an e-mail subject.

    Line breaks (CR, LF, U+2028, U+2029...) and other control characters are refused: in a
    ``Subject`` header they would fail every e-mail delivery (or inject headers).

    Raises
    ------
    InvalidParameterError
        Naming ``title``, the offending character and the rule.
    """
    if not isinstance(title, str) or len(title) > _MAX_TITLE:
        raise InvalidParameterError(f"title must be a string of at most {_MAX_TITLE} characters; got {title!r}.")
    bad = [c for c in title if unicodedata.category(c) in ("Cc", "Zl", "Zp")]
    if bad:
        raise InvalidParameterError(
            f"title must be one line without control characters; it holds {bad[0]!r} (U+{ord(bad[0]):04X}). "
            "Put longer text in description."
        )
    return title


def check_definition(
    definition: ReportDefinition, *, check_schedule: bool = True, seconds: bool = False
) -> ReportDefinition:
    """Validate ``definition`` and return it normalised (title defaulted, levels sorted).

    With ``check_schedule=False`` (a definition read back from the store) the cron schedule
    is not parsed (only its time zone) and the title is not checked.

    Raises
    ------
    InvalidParameterError
        Naming the first field that is invalid, its value and the constraint.
    """
    check_name(definition.name)
    if check_schedule:  # a title stored before the rule stays readable; the e-mail subject is cleaned
        check_title(definition.title)
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
            f"formats must be a non-empty subset of {list(FORMATS)}; got {list(definition.formats)!r}."
        )
    _check_series_options(definition.series_options, definition.model)
    if not all(isinstance(v, str) and v for v in definition.structures):
        raise InvalidParameterError(f"structures must be non-empty names; got {list(definition.structures)!r}.")
    if definition.schedule is not None and check_schedule:
        build_trigger(definition.schedule, definition.timezone, seconds=seconds)
    else:
        _check_timezone(definition.timezone)
    delivery = check_delivery(definition.delivery) if definition.delivery is not None else None
    return dataclasses.replace(
        definition,
        delivery=None if delivery is None or delivery.is_empty else delivery,
        title=definition.title or definition.name,
        levels=tuple(sorted(set(definition.levels))),
        series_ids=tuple(dict.fromkeys(definition.series_ids)),
        tags=dict(definition.tags),
        series_options={k: dict(v) for k, v in definition.series_options.items()},
        structures=tuple(dict.fromkeys(definition.structures)),
    )


#: ``missing`` as REST and the command line take it: refuse gaps, fit the latest unbroken
#: stretch (with a note), or fit through them with a model that skips them. A report
#: forecasts a series with gaps from its latest unbroken stretch under ``"error"`` too (a
#: report does not fail a series for its gaps; the note says what was left out).
MISSING_OPTIONS = ("error", "latest_stretch", "model")

#: Allowed values of each per-series option (``model`` is checked against the registry).
_OPTION_VALUES = {
    "missing": MISSING_OPTIONS,
    "kind": ("level", "share"),
    "transform": TRANSFORMS,
    "check_breaks": ("true", "false"),
}
_SERIES_OPTIONS = ("missing", "kind", "model", "transform", "check_breaks", *DRIVER_OPTIONS)


def _check_series_options(options: object, model: str) -> None:
    if not isinstance(options, dict):
        raise InvalidParameterError(f"series_options must map series ids to options; got {options!r}.")
    for series_id, opts in options.items():
        if not isinstance(series_id, str) or not isinstance(opts, dict):
            raise InvalidParameterError(f"series_options[{series_id!r}] must be a mapping of options; got {opts!r}.")
        unknown = sorted(set(opts) - set(_SERIES_OPTIONS))
        if unknown:
            raise InvalidParameterError(
                f"series_options[{series_id!r}] has unknown option(s) {unknown}; allowed: {', '.join(_SERIES_OPTIONS)}."
            )
        for key, allowed in _OPTION_VALUES.items():
            if key in opts and opts[key] not in allowed:
                raise InvalidParameterError(
                    f"series_options[{series_id!r}].{key} must be one of {list(allowed)}; got {opts[key]!r}."
                )
        if "model" in opts and opts["model"] not in list_models():
            raise InvalidParameterError(
                f"series_options[{series_id!r}].model must be a registered model name; got {opts['model']!r}."
            )
        if opts.get("transform") == "log" and opts.get("kind") == "share":
            raise InvalidParameterError(
                f"series_options[{series_id!r}].transform='log' applies to level series; share series are already "
                "modelled on the logit scale. Drop 'transform' or set 'kind' to 'level'."
            )
        spec = check_driver_options(series_id, opts)
        if spec is not None and (spec.drivers or spec.events):
            _check_takes_drivers(series_id, opts.get("model", model))


def _check_takes_drivers(series_id: str, model: str) -> None:
    """Refuse drivers or events for a series whose model takes none ('auto' chooses one that does)."""
    if model != "auto" and not get_model(model).tags.supports_exog:
        takers = [m for m in list_models() if m != "auto" and get_model(m).tags.supports_exog]
        raise InvalidParameterError(
            f"series_options[{series_id!r}] has drivers or events, but its model {model!r} takes no drivers; "
            f"set its 'model' to 'auto' or one of {takers}."
        )


def _check_timezone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidParameterError(
            f"timezone must be an IANA time zone name such as 'UTC' or 'Europe/Moscow'; got {timezone!r}."
        ) from None


def build_trigger(schedule: str, timezone: str = "UTC", *, seconds: bool = False) -> BaseTrigger:
    """An APScheduler trigger for the cron expression ``schedule`` read in ``timezone``.

    Five fields ``minute hour day month day_of_week`` (fires on the minute); with
    ``seconds=True`` six, ``second`` first (development and tests only). Numeric
    days of week follow cron (0 and 7 are Sunday); APScheduler counts
    from Monday, so they are translated to day names here. When both ``day`` and
    ``day_of_week`` are restricted (neither starts with ``*``) a day matching either
    fires, as in Vixie cron; the result is then an ``OrTrigger`` of two cron triggers.

    Raises
    ------
    InvalidParameterError
        If the expression or the time zone is invalid.
    ScheduleNeverFiresError
        If no date matches the expression (``0 0 30 2 *``), naming the fields.
    """
    tz = _check_timezone(timezone)
    second, minute, hour, day, month, dow = _split_schedule(schedule, seconds)
    dow_names = _translate_dow(dow)
    common = {"second": second, "minute": minute, "hour": hour, "month": month, "timezone": tz}
    either = _is_restricted(day) and _is_restricted(dow)
    parts = [{"day": day, "day_of_week": "*"}, {"day": "*", "day_of_week": dow_names}] if either else []
    parts = parts or [{"day": day, "day_of_week": dow_names}]
    try:
        triggers = [CronTrigger(**common, **days) for days in parts]  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"invalid cron expression {schedule!r}: {exc}.") from None
    # A side that never fires is dropped: APScheduler would search it to the year 9999 on
    # every next/previous fire time (seconds per listing).
    triggers = [t for t, days in zip(triggers, parts, strict=True) if _fires_at_all(days, month, tz)]
    if not triggers:
        _raise_never_fires(schedule, day, month, dow, _fires_at_all({"day": day}, month, tz))
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def _split_schedule(schedule: object, seconds: bool = False) -> tuple[str, str, str, str, str, str]:
    """``second`` (always 0) and the five fields ``minute hour day month day_of_week`` of a cron expression."""
    if not isinstance(schedule, str):
        raise InvalidParameterError(f"schedule must be a cron expression string; got {schedule!r}.")
    fields = schedule.split()
    if len(fields) == 5:
        minute, hour, day, month, dow = fields
        return "0", minute, hour, day, month, dow
    if len(fields) == 6 and seconds:
        second, minute, hour, day, month, dow = fields
        return second, minute, hour, day, month, dow
    raise InvalidParameterError(
        f"schedule must be a cron expression of 5 fields (minute hour day month day_of_week); got "
        f"{len(fields)} field(s) in {schedule!r}. Seconds are not scheduled: the shortest interval is a minute."
    )


def _is_restricted(field_: str) -> bool:
    # Vixie cron treats a day field that starts with "*" (even "*/2") as unrestricted.
    return not field_.startswith(("*", "?"))


def _fires_at_all(days: dict[str, str], month: str, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether some date in the next ~30 years matches ``days`` within ``month``."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    probe = CronTrigger(
        second="0", minute="0", hour="0", month=month, timezone=tz, end_date=start + _FIRE_WINDOW, **days
    )
    return probe.get_next_fire_time(None, start) is not None


def _raise_never_fires(schedule: str, day: str, month: str, dow: str, day_fits_month: bool) -> None:
    # The weekday is to blame only when the day of month alone could fire in those months.
    fields = ["day", "month", "day_of_week"] if day_fits_month else ["day", "month"]
    what = f"day {day!r} of month {month!r}" + (f" on day_of_week {dow!r}" if day_fits_month else "")
    raise ScheduleNeverFiresError(
        f"schedule {schedule!r} never fires: no date is {what}; fix the {', '.join(fields)} field(s).",
        details={"field": "schedule", "value": schedule, "fields": fields},
    )


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
