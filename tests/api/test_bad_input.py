"""Bad input that once reached a 500: every route answers 4xx naming the problem (issue 21)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import TestClient, assert_error

_DEPTH = 100_000


@pytest.fixture
def report(client: TestClient, stored: str) -> str:
    body = {
        "name": "r",
        "title": "r",
        "series_ids": [stored],
        "horizon": 2,
        "levels": [80],
        "model": "naive",
        "schedule": "0 7 * * 1",
        "timezone": "UTC",
    }
    assert client.post("/v1/reports", json=body).status_code == 201
    return "r"


@pytest.mark.parametrize(
    "document",
    ["[" * _DEPTH + "]" * _DEPTH, '{"series":' * _DEPTH + "1" + "}" * _DEPTH],
    ids=["lists", "objects"],
)
def test_deeply_nested_json_upload_is_422(client: TestClient, document: str) -> None:
    response = client.post("/v1/series", files={"file": ("deep.json", document.encode())}, data={"frequency": "annual"})
    assert_error(response, 422, "invalid_input", "nested too deeply")


@pytest.mark.parametrize("path", ["/v1/series", "/v1/forecasts", "/v1/backtests", "/v1/forecasts/batch"])
def test_deeply_nested_json_body_is_4xx(client: TestClient, path: str) -> None:
    deep = "[" * _DEPTH + "]" * _DEPTH
    response = client.post(path, content=deep, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}


def _date_requests(series_id: str, instant: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", "/v1/forecasts", {"params": {"since": instant}}),
        ("get", f"/v1/series/{series_id}", {"params": {"as_of": instant}}),
        ("post", "/v1/forecasts", {"json": {"series_id": series_id, "horizon": 2, "as_of": instant}}),
        ("post", "/v1/backtests", {"json": {"series_id": series_id, "horizon": 2, "as_of": instant}}),
        (
            "post",
            "/v1/forecasts/batch",
            {"json": {"series": [{"series_id": series_id, "as_of": instant}], "horizon": 2}},
        ),
        ("post", "/v1/reports/r/runs", {"json": {"as_of": instant}}),
    ]


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
@pytest.mark.parametrize("index", range(6))
def test_instant_without_utc_equivalent_is_422_on_every_route(
    client: TestClient, report: str, instant: str, index: int
) -> None:
    method, path, kwargs = _date_requests("cn_ru", instant)[index]
    response = getattr(client, method)(path, **kwargs)
    error = assert_error(response, 422, "validation_error", "outside the range")
    assert instant in error["message"]


def test_extreme_but_valid_instants_are_answered(client: TestClient, stored: str) -> None:
    assert client.get("/v1/forecasts", params={"since": "0001-01-01T00:00:00Z"}).status_code == 200
    response = client.get(f"/v1/series/{stored}", params={"as_of": "9999-12-31T23:59:59+14:00"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("door", ["json", "csv"])
def test_monthly_label_in_annual_data_is_422_naming_the_row(client: TestClient, door: str) -> None:
    data = [{"ds": str(2000 + i), "y": 10.0 + i} for i in range(12)]
    data[5]["ds"] = "2005-03"
    if door == "json":
        body = {"series_id": "labels", "name": "a", "frequency": "annual", "data": data}
        response = client.post("/v1/series", json=body)
        where = "data[5].ds"
    else:
        csv = "ds,y\n" + "\n".join(f"{d['ds']},{d['y']}" for d in data)
        files = {"file": ("a.csv", csv.encode())}
        response = client.post("/v1/series", files=files, data={"frequency": "annual", "series_id": "labels"})
        where = "line 7"
    error = assert_error(response, 422, "mixed_frequency", "2005-03")
    assert where in error["message"]
