"""422s that say what to do: closest field name for a typo, percent levels, the missing policy."""

from __future__ import annotations

from tests.api.conftest import annual, assert_error


def _forecast(client, **body):
    return client.post("/v1/forecasts", json={"data": annual(), "frequency": "annual"} | body)


def test_unknown_field_names_the_closest_known_field(client):
    error = assert_error(_forecast(client, horizn=3), 422, "validation_error")
    assert error["message"] == "unknown field 'horizn'; did you mean 'horizon'? (and 1 more)"
    assert [e["field"] for e in error["details"]["errors"]] == ["horizn", "horizon"]


def test_unknown_nested_field_names_the_closest_field_of_its_own_object(client):
    body = {"horizon": 2, "drivers": [{"name": "x", "serie_id": "oil"}]}
    error = assert_error(_forecast(client, **body), 422, "validation_error")
    assert error["message"].startswith("unknown field 'drivers.0.serie_id'; did you mean 'series_id'?")


def test_unknown_field_far_from_every_name_gets_no_guess(client):
    error = assert_error(_forecast(client, horizon=2, zzzzqq=1), 422, "validation_error")
    assert error["message"] == "unknown field 'zzzzqq'"


def test_fractional_level_is_refused_with_the_percent_hint(client):
    error = assert_error(_forecast(client, horizon=2, levels=[0.95]), 422, "validation_error")
    assert "levels are percentages: use 95 for a 95% interval, not 0.95" in error["message"]
    assert error["details"]["errors"][0]["field"] == "levels.0"


def test_null_values_are_refused_naming_the_missing_policies(client):
    data = annual()
    data[5]["y"] = None
    error = assert_error(_forecast(client, horizon=2, data=data), 422, "missing_values")
    assert '"missing": "model"' in error["message"] and '"missing": "latest_stretch"' in error["message"]
    assert error["details"]["missing"] == ["model", "latest_stretch"]
    # ... and the hint works as written.
    answer = _forecast(client, horizon=2, data=data, missing="model", model="auto")
    assert answer.status_code == 200, answer.text


def test_missing_periods_are_refused_naming_null_and_missing_model(client):
    data = annual()
    del data[5:7]
    error = assert_error(_forecast(client, horizon=2, data=data), 422, "missing_periods")
    assert 'send those periods with "y": null and "missing": "model"' in error["message"]
    assert error["details"]["missing_periods"] == ["2005", "2006"]
