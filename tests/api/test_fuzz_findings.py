"""Regressions for what the schemathesis fuzz suite found (issue 21, beyond the list)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import TestClient, assert_error


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/v1/reports", "GET, POST"),  # two routes on one path: Starlette named only POST
        ("PATCH", "/v1/series", "GET, POST"),
        ("POST", "/v1/reports/daily", "DELETE, GET, PUT"),
        ("OPTIONS", "/v1/forecasts/batch", "POST"),  # a literal path is not a value of {forecast_id}
        ("PUT", "/health", "GET"),
    ],
)
def test_405_allow_header_lists_every_method_of_the_path(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert_error(response, 405, "method_not_allowed", method)
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("value", ["2020", "0.5", "1700000000", "-1e3"])
def test_number_given_as_an_instant_is_422_not_unix_seconds(client: TestClient, value: str) -> None:
    # pydantic read numbers as Unix seconds: ?since=2020 silently meant 1970-01-01T00:33:40Z.
    error = assert_error(client.get("/v1/forecasts", params={"since": value}), 422, "validation_error", "since")
    assert "ISO 8601" in error["message"]


def test_iso_instants_still_accepted(client: TestClient) -> None:
    for value in ("2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T03:00:00+03:00"):
        assert client.get("/v1/forecasts", params={"since": value}).status_code == 200, value


def test_get_on_the_batch_path_is_405_not_a_forecast_id_error(client: TestClient) -> None:
    response = client.get("/v1/forecasts/batch")
    assert_error(response, 405, "method_not_allowed", "GET")
    assert response.headers["allow"] == "POST"


def test_malformed_forecast_id_is_still_422(client: TestClient) -> None:
    assert_error(client.get("/v1/forecasts/not-an-id"), 422, "validation_error", "forecast_id")


@pytest.mark.parametrize("value", [False, True])
def test_boolean_observation_is_422_not_stored_as_0_or_1(client: TestClient, value: bool) -> None:
    body = {"series_id": "b", "frequency": "annual", "data": [{"ds": "2000", "y": value}, {"ds": "2001", "y": 2}]}
    assert_error(client.post("/v1/series", json=body), 422, "validation_error", "boolean")
    assert client.get("/v1/series").json()["count"] == 0


# -- uploads: a layout that does not fit the file, a blank published_at --------------------------

_LONG_CSV = "ds,y\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{i}\n" for i in range(600))
_IMF_HEADER = "Country Code,Indicator Code,Counterpart Country Code,Attribute,2019,2020\n"


def _upload(client: TestClient, text: str, **fields: str) -> Any:
    return client.post("/v1/series", files={"file": ("upload.csv", text.encode())}, data=fields)


def test_long_csv_with_imf_layout_is_422_naming_the_missing_columns(client: TestClient) -> None:
    # A 600-line long-format CSV read as an IMF file was a 500 (ValueError from list.index).
    error = assert_error(_upload(client, _LONG_CSV, layout="imf"), 422, "invalid_input", "an IMF file needs")
    assert "Country Code" in error["message"] and "['ds', 'y']" in error["message"]
    assert error["details"]["line"] == 1
    assert client.get("/v1/series").json()["count"] == 0


@pytest.mark.parametrize(
    ("text", "layout", "why"),
    [
        (_IMF_HEADER + "924,TXG_FOB_USD,922,Status,C,C\n", "imf", "no row has Attribute 'Value'"),
        (_IMF_HEADER + "924,TXG_FOB_USD,922,Status,C,C\n", "auto", "no row has Attribute 'Value'"),
        ("ds,y\n2000,1\n2001,2\n", "fcs", "no row names a month"),
    ],
)
def test_layout_leaving_no_observations_is_422_not_500(client: TestClient, text: str, layout: str, why: str) -> None:
    # Every row dropped by the layout reached the store as an empty upload (ValueError in zip).
    error = assert_error(_upload(client, text, layout=layout), 422, "invalid_input", "holds no observations")
    assert why in error["message"]
    assert client.get("/v1/series").json()["count"] == 0


@pytest.mark.parametrize("value", ["", "  "])
def test_blank_published_at_in_an_upload_is_422_naming_the_field(client: TestClient, value: str) -> None:
    # `-F published_at=` was read as "not given": the vintage was stored without its date.
    response = _upload(client, "ds,y\n2000,1\n2001,2\n", series_id="a", published_at=value)
    error = assert_error(response, 422, "invalid_input", "published_at is empty")
    assert error["details"]["field"] == "published_at"
    assert client.get("/v1/series").json()["count"] == 0


def test_blank_published_at_in_a_json_body_is_422_naming_the_field(client: TestClient) -> None:
    body = {"series_id": "a", "frequency": "annual", "data": [{"ds": "2000", "y": 1}], "published_at": ""}
    assert_error(client.post("/v1/series", json=body), 422, "validation_error", "published_at")
    assert client.get("/v1/series").json()["count"] == 0


def test_upload_without_published_at_still_stores_an_unpublished_vintage(client: TestClient) -> None:
    response = _upload(client, "ds,y\n2000,1\n2001,2\n", series_id="a")
    assert response.status_code == 201, response.text
    assert response.json()["data"][0]["published_at"] is None


_NEGATIVE_CSV = "ds,y\n2000,1\n2001,-2\n"


@pytest.mark.parametrize(("value", "stored"), [("1", True), ("on", True), ("True", True), ("0", False), ("no", False)])
def test_allow_negative_form_spellings_the_schema_lists_are_read(client: TestClient, value: str, stored: bool) -> None:
    # The form declared a boolean while "0"/"1"/"yes"/"on" were read: schemathesis sent "0" as a
    # schema violation and saw it accepted. The schema now lists exactly the spellings read.
    form = client.get("/openapi.json").json()["paths"]["/v1/series"]["post"]["requestBody"]["content"]
    assert value in form["multipart/form-data"]["schema"]["properties"]["allow_negative"]["enum"]
    response = _upload(client, _NEGATIVE_CSV, series_id="a", allow_negative=value)
    if stored:
        assert response.status_code == 201, response.text
    else:
        assert_error(response, 422, "negative_value")


@pytest.mark.parametrize("value", ["", "TRUE", " true", "maybe"])
def test_allow_negative_spelling_not_listed_is_422_naming_the_field(client: TestClient, value: str) -> None:
    error = assert_error(_upload(client, _NEGATIVE_CSV, series_id="a", allow_negative=value), 422, "invalid_input")
    assert error["details"]["field"] == "allow_negative" and "1/0, yes/no, on/off" in error["message"]


@pytest.mark.parametrize(("field", "limit"), [("release", 100), ("sheet", 100)])
def test_upload_form_text_over_its_max_length_is_422_naming_the_field(
    client: TestClient, field: str, limit: int
) -> None:
    # The form schema said maxLength 100 while any length was stored (schemathesis, release).
    form = client.get("/openapi.json").json()["paths"]["/v1/series"]["post"]["requestBody"]["content"]
    assert form["multipart/form-data"]["schema"]["properties"][field]["maxLength"] == limit
    response = _upload(client, "ds,y\n2000,1\n2001,2\n", series_id="a", **{field: "0" * (limit + 1)})
    error = assert_error(response, 422, "invalid_input", f"{field} has {limit + 1} characters")
    assert error["details"]["field"] == field
    assert client.get("/v1/series").json()["count"] == 0
