"""Report definitions: validation and cron translation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition, build_trigger, check_definition
from reports.exceptions import ScheduleNeverFiresError


def test_cron_day_of_week_follows_cron_convention_monday_is_1() -> None:
    # Friday 2026-11-27; cron "1" is Monday, which APScheduler alone would read as Tuesday.
    trigger = build_trigger("0 7 * * 1", "UTC")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 27, tzinfo=UTC))
    assert fire == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert fire.weekday() == 0


@pytest.mark.parametrize(
    ("dow", "expected_weekdays"),
    [("0", {6}), ("7", {6}), ("1-5", {0, 1, 2, 3, 4}), ("5-7", {4, 5, 6}), ("sat,sun", {5, 6}), ("*/3", {6, 2, 5})],
)
def test_cron_day_of_week_ranges_translate(dow: str, expected_weekdays: set[int]) -> None:
    trigger = build_trigger(f"0 12 * * {dow}", "UTC")
    seen = set()
    fire = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(14):
        fire = trigger.get_next_fire_time(None, fire)
        seen.add(fire.weekday())
        fire = fire.replace(hour=13)
    assert seen == expected_weekdays


def test_cron_respects_timezone() -> None:
    trigger = build_trigger("0 9 * * *", "Europe/Moscow")
    fire = trigger.get_next_fire_time(None, datetime(2026, 6, 1, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def test_six_field_cron_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidParameterError, match=r"5 fields .*got 6 field\(s\).*shortest interval is a minute"):
        build_trigger("* * * * * *", "UTC")
    with pytest.raises(InvalidParameterError, match="5 fields"):
        ReportDefinition.from_dict({"name": "r", "series_ids": ["s1"], "schedule": "*/2 * * * * *"})


def test_six_field_cron_has_seconds_only_when_the_service_allows_it() -> None:
    trigger = build_trigger("*/2 * * * * *", "UTC", seconds=True)
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert fire == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"name": "Bad Name"}, "report name"),
        ({"series_ids": (), "tags": {}}, "selects no series"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": True}, "horizon"),
        ({"levels": (80, 100)}, "levels"),
        ({"schedule": "0 7 * *"}, "5 fields"),
        ({"schedule": "0 25 * * *"}, "invalid cron"),
        ({"timezone": "Mars/Olympus"}, "IANA"),
        ({"formats": ("docx",)}, "formats"),
        ({"model": "prophet"}, "registered model name"),
    ],
)
def test_invalid_definition_raises_invalid_parameter(changes: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"name": "ok", "series_ids": ("a",)}
    with pytest.raises(InvalidParameterError, match=match):
        check_definition(ReportDefinition(**{**base, **changes}))  # type: ignore[arg-type]


def test_definition_round_trips_through_dict_and_normalises() -> None:
    d = ReportDefinition.from_dict(
        {"name": "cr", "series_ids": ["a", "b", "a"], "tags": {"partner": "china"}, "levels": [95, 80]}
    )
    assert d.series_ids == ("a", "b")
    assert d.levels == (80, 95)
    assert d.title == "cr"
    assert ReportDefinition.from_dict(d.to_dict()) == d


def test_unknown_definition_field_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="unknown report definition fields: colour"):
        ReportDefinition.from_dict({"name": "x", "series_ids": ["a"], "colour": "red"})


@pytest.mark.parametrize(
    ("schedule", "fields"),
    [
        ("0 0 30 2 *", ["day", "month"]),
        ("0 0 31 4,6,9,11 *", ["day", "month"]),
        ("0 0 31 2 *", ["day", "month"]),
        ("0 0 31 2 */2", ["day", "month"]),  # '*/2' counts as unrestricted: AND, and Feb has no 31st
    ],
)
def test_schedule_that_never_fires_is_refused_naming_fields(schedule: str, fields: list[str]) -> None:
    started = time.perf_counter()
    with pytest.raises(ScheduleNeverFiresError, match="never fires") as info:
        check_definition(ReportDefinition(name="ok", series_ids=("a",), schedule=schedule))
    assert time.perf_counter() - started < 0.5  # not APScheduler's walk to the year 9999
    assert isinstance(info.value, InvalidParameterError)
    assert info.value.details == {"field": "schedule", "value": schedule, "fields": fields}


@pytest.mark.parametrize("schedule", ["0 0 29 2 *", "0 0 31 * *", "0 0 30 2 1", "0 0 1 2 1-5"])
def test_rare_but_possible_schedule_is_accepted(schedule: str) -> None:
    trigger = build_trigger(schedule, "UTC")
    assert trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC)) is not None


def _fires(schedule: str, start: datetime, n: int) -> list[datetime]:
    trigger = build_trigger(schedule, "UTC")
    out: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(out) < n:
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return out


def test_day_of_month_and_day_of_week_both_restricted_fire_on_either() -> None:
    # Vixie cron: "0 7 1 * 1" is the 1st of the month OR any Monday. 2026-06-01 is a Monday.
    fires = _fires("0 7 1 * 1", datetime(2026, 5, 20, tzinfo=UTC), 6)
    assert [f.date().isoformat() for f in fires] == [
        "2026-05-25",  # Monday
        "2026-06-01",  # the 1st and a Monday: once
        "2026-06-08",
        "2026-06-15",
        "2026-06-22",
        "2026-06-29",
    ]
    july = _fires("0 7 1 * 1", datetime(2026, 6, 30, tzinfo=UTC), 2)
    assert [f.date().isoformat() for f in july] == ["2026-07-01", "2026-07-06"]  # Wednesday 1st, then Monday
    assert all(f.hour == 7 and f.minute == 0 for f in fires + july)


def test_starred_day_field_keeps_and_semantics() -> None:
    # "*/2" starts with "*", so Vixie cron reads it as unrestricted: odd days AND Mondays.
    fires = _fires("0 7 */2 * 1", datetime(2026, 6, 1, tzinfo=UTC), 4)
    assert all(f.weekday() == 0 and f.day % 2 == 1 for f in fires)
    assert fires[0].date().isoformat() == "2026-06-01"


@pytest.mark.parametrize("missing", ["error", "latest_stretch", "model"])
def test_series_option_missing_takes_the_values_rest_takes(missing: str) -> None:
    definition = check_definition(
        ReportDefinition(name="ok", series_ids=("a",), series_options={"a": {"missing": missing}})
    )
    assert definition.series_options["a"]["missing"] == missing


def test_series_option_missing_refuses_an_unknown_value_naming_the_allowed_ones() -> None:
    with pytest.raises(InvalidParameterError, match=r"missing must be one of \['error', 'latest_stretch', 'model'\]"):
        check_definition(ReportDefinition(name="ok", series_ids=("a",), series_options={"a": {"missing": "fill"}}))


def test_series_option_latest_stretch_with_drivers_is_taken() -> None:
    options = {"a": {"missing": "latest_stretch", "model": "structural", "drivers": ["brent"]}}
    definition = check_definition(ReportDefinition(name="ok", series_ids=("a",), series_options=options))
    assert definition.series_options["a"]["missing"] == "latest_stretch"


@pytest.mark.parametrize("transform", ["none", "log"])
def test_series_option_transform_takes_the_values_rest_takes(transform: str) -> None:
    options = {"a": {"transform": transform}}
    definition = check_definition(ReportDefinition(name="ok", series_ids=("a",), series_options=options))
    assert definition.series_options["a"]["transform"] == transform


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"transform": "sqrt"}, r"transform must be one of \['none', 'log'\]; got 'sqrt'"),
        ({"transform": "log", "kind": "share"}, "applies to level series"),
    ],
)
def test_series_option_transform_refuses_a_bad_value_naming_it(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        check_definition(ReportDefinition(name="ok", series_ids=("a",), series_options={"a": options}))


def test_report_section_with_latest_stretch_forecasts_the_latest_unbroken_stretch() -> None:
    import numpy as np
    import pandas as pd

    from reports.content import compute_section

    values = np.r_[np.arange(5.0) + 50, np.nan, np.arange(14.0) * 3 + 60]
    y = pd.Series(values, index=pd.period_range("2000", periods=20, freq="Y"), name="gappy")
    stretch = compute_section("gappy", y, horizon=2, levels=(80,), model="naive", missing="latest_stretch")
    assert not stretch.error and len(stretch.forecasts) == 2
    assert [w.code for w in stretch.warnings][:1] == ["missing_values"]
    tail = compute_section("gappy", y.iloc[6:], horizon=2, levels=(80,), model="naive")
    assert stretch.forecasts == tail.forecasts
