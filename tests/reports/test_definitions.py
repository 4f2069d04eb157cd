"""Report definitions: validation and cron translation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition, build_trigger, check_definition


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


def test_six_field_cron_has_seconds() -> None:
    trigger = build_trigger("*/2 * * * * *", "UTC")
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
        ({"formats": ("pdf",)}, "formats"),
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
