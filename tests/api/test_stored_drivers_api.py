"""Drivers that reference stored series by id in POST /v1/forecasts (and batch, backtest)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.api.conftest import assert_error
from tests.api.test_drivers_api import H, N, _body, _driven


def _store(client: Any, series_id: str, data: list[dict[str, Any]], frequency: str = "annual") -> None:
    # A driver (an index, a price change) may be negative: stored with allow_negative.
    body = {
        "series_id": series_id,
        "name": series_id,
        "frequency": frequency,
        "unit": "USD",
        "data": data,
        "allow_negative": True,
    }
    response = client.post("/v1/series", json=body)
    assert response.status_code == 201, response.text


def _by_id(**extra: Any) -> dict[str, Any]:
    body = _body(**extra)
    body["drivers"] = [{"name": "x", "series_id": "oil"}]
    return body


def test_stored_driver_gives_the_inline_forecast(client):
    _, x = _driven()
    _store(client, "oil", x)
    inline = client.post("/v1/forecasts", json=_body())
    stored = client.post("/v1/forecasts", json=_by_id())
    assert stored.status_code == 200, stored.text
    np.testing.assert_allclose(
        [r["mean"] for r in stored.json()["forecast"]], [r["mean"] for r in inline.json()["forecast"]], rtol=1e-9
    )


def test_new_vintage_of_the_driver_changes_the_cache_key(client):
    _, x = _driven()
    _store(client, "oil", x)
    first = client.post("/v1/forecasts", json=_by_id())
    assert first.headers["x-cache"] == "miss"
    assert client.post("/v1/forecasts", json=_by_id()).headers["x-cache"] == "hit"
    revised = [{**o, "y": o["y"] + (5.0 if o["ds"] == "2022" else 0.0)} for o in x]
    _store(client, "oil", revised)
    second = client.post("/v1/forecasts", json=_by_id())
    assert second.headers["x-cache"] == "miss"
    assert second.json()["forecast"][-1]["mean"] != first.json()["forecast"][-1]["mean"]


def test_stored_driver_read_at_the_requests_as_of(client):
    _, x = _driven()
    _store(client, "oil", x)
    stamp = client.get("/v1/series/oil/vintages").json()["data"][0]["created_at"]
    _store(client, "oil", [{**o, "y": o["y"] + 50.0} for o in x])
    old = client.post(
        "/v1/forecasts", json=_by_id(drivers=None) | {"drivers": [{"name": "x", "series_id": "oil", "as_of": stamp}]}
    )
    assert old.status_code == 200, old.text
    inline = client.post("/v1/forecasts", json=_body())
    np.testing.assert_allclose(
        [r["mean"] for r in old.json()["forecast"]], [r["mean"] for r in inline.json()["forecast"]], rtol=1e-9
    )


def test_unknown_driver_series_answers_404_naming_the_driver(client):
    assert_error(client.post("/v1/forecasts", json=_by_id()), 404, "series_not_found", "driver 'x'")


def test_driver_short_of_the_horizon_answers_422_naming_driver_and_period(client):
    _, x = _driven()
    _store(client, "oil", x[:-2])
    error = assert_error(client.post("/v1/forecasts", json=_by_id()), 422, "invalid_future_drivers", "'x'")
    assert "2021" in error["message"] and "'oil'" in error["message"]


def test_driver_short_of_the_history_answers_422(client):
    _, x = _driven()
    _store(client, "oil", x[5:])
    assert_error(client.post("/v1/forecasts", json=_by_id()), 422, "invalid_drivers", "1990")


def test_driver_of_another_frequency_answers_422(client):
    months = [{"ds": f"{1990 + i // 12}-{i % 12 + 1:02d}", "y": float(i)} for i in range(12 * (N + H))]
    _store(client, "oil", months, "monthly")
    assert_error(client.post("/v1/forecasts", json=_by_id()), 422, "invalid_drivers", "monthly")


def test_scenarios_supply_the_horizon_of_a_short_stored_driver(client):
    _, x = _driven()
    _store(client, "oil", x[:N])
    scen = {
        name: {"x": [{"ds": str(2020 + i), "y": level} for i in range(H)]}
        for name, level in (("lo", 5.0), ("hi", 30.0))
    }
    response = client.post("/v1/forecasts", json=_by_id(scenarios=scen))
    assert response.status_code == 200, response.text
    got = response.json()
    assert list(got["scenarios"]) == ["lo", "hi"]
    assert got["scenarios"]["hi"][-1]["mean"] > got["scenarios"]["lo"][-1]["mean"]
    assert "driver_forecast" in [w["code"] for w in got["warnings"]]
    # One scenario without the driver: the baseline has nothing to stand on -> 422.
    body = _by_id(scenarios={**scen, "mid": {"x": [{"ds": "2020", "y": 1.0}]}})
    assert_error(client.post("/v1/forecasts", json=body), 422, "invalid_future_drivers", "2020")


def test_driver_needs_exactly_one_of_data_and_series_id(client):
    body = _body()
    body["drivers"][0]["series_id"] = "oil"
    assert client.post("/v1/forecasts", json=body).status_code == 422
    body = _by_id()
    del body["drivers"][0]["series_id"]
    assert client.post("/v1/forecasts", json=body).status_code == 422


def test_backtest_and_batch_take_stored_drivers(client):
    data, x = _driven()
    _store(client, "oil", x)
    backtest = {
        "data": data,
        "frequency": "annual",
        "horizon": 2,
        "windows": 2,
        "models": ["regression_arima"],
        "drivers": [{"name": "x", "series_id": "oil"}],
    }
    response = client.post("/v1/backtests", json=backtest)
    assert response.status_code == 200, response.text
    items = [
        {"data": data, "frequency": "annual", "drivers": [{"name": "x", "series_id": "oil"}]},
        {"data": data, "frequency": "annual", "drivers": [{"name": "x", "series_id": "nothing_here"}]},
    ]
    response = client.post("/v1/forecasts/batch", json={"series": items, "horizon": H, "model": "regression_arima"})
    assert response.status_code == 200, response.text
    out = response.json()["data"]
    assert [item["status"] for item in out] == ["ok", "error"]
    assert out[1]["error"]["code"] == "series_not_found"
