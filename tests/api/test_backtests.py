"""POST /v1/backtests."""

from __future__ import annotations

import pytest

from tests.api.conftest import annual, assert_error


def test_backtest_scores_each_model_and_window(client, stored):
    body = {"series_id": stored, "horizon": 3, "windows": 4, "models": ["naive", "drift"]}
    response = client.post("/v1/backtests", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [m["model"] for m in result["metrics"]] == ["naive", "drift"]
    assert len(result["per_window"]) == 2 * 4
    assert len(result["rows"]) == 2 * 4 * 3
    assert {"model", "cutoff", "ds", "h", "mean", "y", "lo_80", "hi_95"} <= set(result["rows"][0])
    naive = result["metrics"][0]
    assert naive["smape"] > 0 and naive["mase"] > 0
    assert set(naive["coverage"]) == {"80", "95"} and 0 <= naive["coverage"]["95"] <= 1
    windows = [w for w in result["per_window"] if w["model"] == "naive"]
    assert naive["smape"] == pytest.approx(sum(w["smape"] for w in windows) / 4)
    assert [w["cutoff"] for w in windows] == ["2013", "2014", "2015", "2016"]


def test_backtest_on_inline_data_uses_default_model(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "windows": 2}
    result = client.post("/v1/backtests", json=body).json()
    assert [m["model"] for m in result["metrics"]] == ["naive2"]


def test_constant_series_gives_undefined_scaled_errors_not_500(client):
    data = [{"ds": str(2000 + i), "y": 5.0} for i in range(12)]
    body = {"data": data, "frequency": "annual", "horizon": 2, "windows": 2, "models": ["naive"]}
    response = client.post("/v1/backtests", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["metrics"][0]["mase"] is None


def test_too_many_windows_for_series_is_422(client):
    body = {"data": annual(8), "frequency": "annual", "horizon": 3, "windows": 6, "models": ["drift"]}
    assert_error(client.post("/v1/backtests", json=body), 422, "insufficient_data", "windows")


def test_windows_above_limit_is_422(client, settings):
    body = {"data": annual(), "frequency": "annual", "horizon": 1, "windows": settings.max_backtest_windows + 1}
    assert_error(client.post("/v1/backtests", json=body), 422, "invalid_parameter", "windows")


def test_unknown_model_in_backtest_is_422(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 1, "models": ["naive", "oracle"]}
    error = assert_error(client.post("/v1/backtests", json=body), 422, "invalid_parameter", "oracle")
    assert error["details"]["field"] == "models[1]"
