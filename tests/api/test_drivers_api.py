"""Drivers, events, gaps, break warnings and scenarios through POST /v1/forecasts (and batch, backtest)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.frames import hi_col, lo_col
from tests.api.conftest import assert_error

N, H = 30, 3


def _driven(n: int = N, horizon: int = H) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Annual y = 20 + 4 x + small noise, x a random walk; returns y's and x's observations (x over n + horizon)."""
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(0.0, 1.0, n + horizon)) + 10.0
    y = 20.0 + 4.0 * x + rng.normal(0.0, 0.3, n + horizon)
    years = [str(1990 + i) for i in range(n + horizon)]
    return (
        [{"ds": years[i], "y": float(y[i])} for i in range(n)],
        [{"ds": years[i], "y": float(x[i])} for i in range(n + horizon)],
    )


def _body(**extra: Any) -> dict[str, Any]:
    data, x = _driven()
    return {
        "data": data,
        "frequency": "annual",
        "horizon": H,
        "model": "regression_arima",
        "drivers": [{"name": "x", "data": x}],
        **extra,
    }


def _library(body: dict[str, Any]) -> pd.DataFrame:
    idx = pd.PeriodIndex([o["ds"] for o in body["data"]], freq="Y")
    y = pd.Series([o["y"] for o in body["data"]], index=idx, name="y")
    xs = body["drivers"][0]["data"]
    x = pd.Series([o["y"] for o in xs], index=pd.PeriodIndex([o["ds"] for o in xs], freq="Y"))
    X = x.iloc[:N].to_frame("x").set_axis(idx)
    return forecasting.forecast(y, H, model=body["model"], X=X, X_future=x.iloc[N:].to_frame("x"))


def test_forecast_with_drivers_matches_library(client):
    body = _body()
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert [r["ds"] for r in got["forecast"]] == ["2020", "2021", "2022"]
    want = _library(body)
    np.testing.assert_allclose([r["mean"] for r in got["forecast"]], want["mean"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose([r[hi_col(95)] for r in got["forecast"]], want[hi_col(95)].to_numpy(), rtol=1e-6)
    assert got["scenarios"] is None


def test_drivers_change_the_cache_key(client):
    first = client.post("/v1/forecasts", json=_body())
    other = _body()
    other["drivers"][0]["data"][-1]["y"] += 5.0
    second = client.post("/v1/forecasts", json=other)
    assert second.headers["x-cache"] == "miss"
    assert first.json()["forecast"][-1]["mean"] != second.json()["forecast"][-1]["mean"]
    assert client.post("/v1/forecasts", json=other).headers["x-cache"] == "hit"


def test_drivers_missing_over_the_horizon_answer_422_naming_the_period(client):
    body = _body()
    body["drivers"][0]["data"] = body["drivers"][0]["data"][:-1]
    assert_error(client.post("/v1/forecasts", json=body), 422, "invalid_future_drivers", "2022")


def test_drivers_with_a_gap_in_the_history_answer_422(client):
    body = _body()
    body["drivers"][0]["data"][5]["y"] = None
    assert_error(client.post("/v1/forecasts", json=body), 422, "invalid_drivers", "1995")


def test_drivers_refused_by_a_model_that_takes_none(client):
    assert_error(client.post("/v1/forecasts", json=_body(model="naive2")), 422, "drivers_not_supported")


def test_drivers_with_growth_come_from_the_driven_fit(client):
    response = client.post("/v1/forecasts", json=_body(growth={"yoy": True}))
    assert response.status_code == 200, response.text
    got = response.json()
    assert [r["ds"] for r in got["growth"]["annual"]] == ["2020", "2021", "2022"]
    want = _library(_body())
    np.testing.assert_allclose([r["mean"] for r in got["forecast"]], want["mean"].to_numpy(), rtol=1e-6)
    # The first forecast year against the last observed one, from the driven model's paths: near its mean.
    last = _driven()[0][-1]["y"]
    change = 100.0 * (got["forecast"][0]["mean"] / last - 1.0)
    assert abs(got["growth"]["annual"][0]["mean"] - change) < 1.0


def test_growth_with_scenarios_answers_422(client):
    scen = {"high": {"x": [{"ds": str(2020 + i), "y": 30.0} for i in range(H)]}}
    body = _body(growth={"yoy": True}, scenarios=scen)
    assert_error(client.post("/v1/forecasts", json=body), 422, "invalid_parameter", "scenarios")


def test_full_year_with_drivers_short_of_the_year_end_answers_422(client):
    months = [f"{2018 + i // 12}-{i % 12 + 1:02d}" for i in range(36 + 12)]
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(0.0, 1.0, len(months))) + 10.0
    y = 20.0 + 4.0 * x + rng.normal(0.0, 0.3, len(months))
    body = {
        "data": [{"ds": months[i], "y": float(y[i])} for i in range(36)],
        "frequency": "monthly",
        "horizon": 3,
        "model": "structural",
        "drivers": [{"name": "x", "data": [{"ds": m, "y": float(v)} for m, v in zip(months[:39], x, strict=False)]}],
        "full_year": {},
    }
    assert_error(client.post("/v1/forecasts", json=body), 422, "invalid_future_drivers", "2021-04")
    body["drivers"][0]["data"] = [{"ds": m, "y": float(v)} for m, v in zip(months, x, strict=True)]
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["full_year"]["ds"] == "2021"


def test_events_and_break_warning(client):
    data, _ = _driven()
    shifted = [{"ds": o["ds"], "y": o["y"] + (60.0 if int(o["ds"]) >= 2008 else 0.0)} for o in data]
    plain = {"data": shifted, "frequency": "annual", "horizon": H, "model": "structural", "check_breaks": True}
    response = client.post("/v1/forecasts", json=plain)
    assert response.status_code == 200, response.text
    codes = [w["code"] for w in response.json()["warnings"]]
    assert "structural_break" in codes
    marked = {**plain, "events": [{"ds": "2008", "type": "level_shift"}]}
    response = client.post("/v1/forecasts", json=marked)
    assert response.status_code == 200, response.text
    assert "structural_break" not in [w["code"] for w in response.json()["warnings"]]


def test_unknown_event_type_answers_422(client):
    body = _body(events=[{"ds": "2000", "type": "earthquake"}])
    assert client.post("/v1/forecasts", json=body).status_code == 422


def test_missing_model_fits_through_gaps(client):
    data, _ = _driven()
    for i in (3, 9, 10, 17):
        data[i]["y"] = None
    body = {"data": data, "frequency": "annual", "horizon": H, "model": "structural", "missing": "model"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["forecast"]) == H
    body["model"] = "naive2"
    assert_error(client.post("/v1/forecasts", json=body), 422, "missing_not_supported", "missing='model'")


def test_scenarios_keyed_by_name_and_read_back(client):
    scen = {"high": {"x": [{"ds": str(2020 + i), "y": 30.0} for i in range(H)]}}
    response = client.post("/v1/forecasts", json=_body(scenarios=scen))
    assert response.status_code == 200, response.text
    got = response.json()
    assert list(got["scenarios"]) == ["high"]
    rows = got["scenarios"]["high"]
    assert [r["ds"] for r in rows] == ["2020", "2021", "2022"]
    for r in rows:
        assert r[lo_col(95)] <= r["mean"] <= r[hi_col(95)]
    # The driver path is far above the baseline's: the scenario's forecast is higher.
    assert rows[-1]["mean"] > got["forecast"][-1]["mean"]
    archived = client.get(f"/v1/forecasts/{got['id']}").json()
    assert archived["scenarios"] == got["scenarios"]


def test_scenario_with_unknown_driver_answers_422(client):
    scen = {"bad": {"oil": [{"ds": str(2020 + i), "y": 1.0} for i in range(H)]}}
    assert_error(client.post("/v1/forecasts", json=_body(scenarios=scen)), 422, "invalid_future_drivers", "oil")


def test_scenario_missing_a_period_answers_422(client):
    scen = {"short": {"x": [{"ds": "2020", "y": 1.0}]}}
    assert_error(client.post("/v1/forecasts", json=_body(scenarios=scen)), 422, "invalid_future_drivers", "2021")


def test_backtest_with_drivers(client):
    data, x = _driven(horizon=0)
    body = {
        "data": data,
        "frequency": "annual",
        "horizon": 2,
        "windows": 2,
        "models": ["regression_arima"],
        "drivers": [{"name": "x", "data": x}],
    }
    response = client.post("/v1/backtests", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["metrics"][0]["model"] == "regression_arima"


def test_batch_with_per_series_drivers(client):
    good = _body()
    bad = _body()
    bad["drivers"][0]["data"] = bad["drivers"][0]["data"][:-2]
    items = [{k: v for k, v in b.items() if k in ("data", "frequency", "drivers")} for b in (good, bad)]
    body = {"series": items, "horizon": H, "model": "regression_arima"}
    response = client.post("/v1/forecasts/batch", json=body)
    assert response.status_code == 200, response.text
    out = response.json()["data"]
    assert [item["status"] for item in out] == ["ok", "error"]
    assert out[1]["error"]["code"] == "invalid_future_drivers"
    np.testing.assert_allclose([r["mean"] for r in out[0]["forecast"]["forecast"]], _library(good)["mean"], rtol=1e-6)


def test_forecast_with_drivers_returns_their_coefficients(client):
    body = _body()
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    (coef,) = response.json()["coefficients"]
    # y = 20 + 4 x: the estimate is 4 within a few standard errors; the elasticity is at the means.
    assert coef["name"] == "x" and 0 < coef["std_error"] < 1
    assert abs(coef["estimate"] - 4.0) < 4 * coef["std_error"]
    y = np.array([o["y"] for o in body["data"]])
    x = np.array([o["y"] for o in body["drivers"][0]["data"]])[:N]
    assert coef["elasticity_at_mean"] == pytest.approx(coef["estimate"] * x.mean() / y.mean())
    archived = client.get(f"/v1/forecasts/{response.json()['id']}").json()
    assert archived["coefficients"] == response.json()["coefficients"]
    plain = client.post("/v1/forecasts", json={k: v for k, v in body.items() if k != "drivers"} | {"model": "naive"})
    assert plain.status_code == 200, plain.text
    assert plain.json()["coefficients"] == []


def test_driver_uncertainty_is_named_in_the_interval_method(client):
    scen = {"high": {"x": [{"ds": str(2020 + i), "y": 30.0} for i in range(H)]}}
    known = client.post("/v1/forecasts", json=_body(scenarios=scen)).json()
    assert "drivers taken as known" in known["interval_method"]
    body = _body(scenarios=scen, driver_uncertainty=True)
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert "drivers taken as known" not in response.json()["interval_method"].split(";")[0]
    assert "driver_uncertainty" in response.json()["interval_method"]
