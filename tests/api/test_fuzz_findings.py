"""Regressions for what the schemathesis fuzz suite found (issue 21, beyond the list)."""

from __future__ import annotations

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
