"""POST /v1/forecasts with growth and full-year blocks: inline and stored, cached, archived, 422s."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import annual, assert_error


def monthly(n: int = 42, start: int = 2020) -> list[dict[str, Any]]:
    """Inline monthly observations from January ``start`` (42: Jan 2020 - Jun 2023)."""
    return [{"ds": f"{start + i // 12}-{i % 12 + 1:02d}", "y": 10.0 + 0.1 * i + (i % 12)} for i in range(n)]


def body(**extra: Any) -> dict[str, Any]:
    return {"data": monthly(), "frequency": "monthly", "horizon": 6, "model": "naive", **extra}


def test_growth_and_full_year_blocks_are_returned(client):
    response = client.post("/v1/forecasts", json=body(growth={"yoy": True, "base": "2022"}, full_year={"how": "sum"}))
    assert response.status_code == 200, response.text
    out = response.json()
    growth, year = out["growth"], out["full_year"]
    assert growth["base"] == "2022" and growth["how"] == "sum"
    assert [r["ds"] for r in growth["yoy"]] == [r["ds"] for r in out["forecast"]]
    assert [r["ds"] for r in growth["vs_base"]] == ["2023"]
    assert [r["ds"] for r in growth["annual"]] == ["2023"]
    assert set(growth["index"][0]) == {"ds", "median", "mean", "lo_80", "hi_80", "lo_95", "hi_95"}
    assert growth["headline"] == "median" and year["headline"] == "median"
    assert year["lo_80"] <= year["median"] <= year["hi_80"]
    assert abs(growth["index"][0]["mean"] - 100 - growth["vs_base"][0]["mean"]) < 1e-9
    assert year["ds"] == "2023" and year["periods_observed"] == 6 and year["how"] == "sum"
    assert year["observed"] == sum(o["y"] for o in monthly()[-6:])
    assert year["lo_95"] <= year["lo_80"] <= year["mean"] <= year["hi_80"] <= year["hi_95"]


def test_forecast_without_options_has_no_blocks(client):
    out = client.post("/v1/forecasts", json=body()).json()
    assert out["growth"] is None and out["full_year"] is None


def test_blocks_are_cached_under_their_own_key(client):
    plain = client.post("/v1/forecasts", json=body())
    with_growth = client.post("/v1/forecasts", json=body(growth={"base": 2022}))
    again = client.post("/v1/forecasts", json=body(growth={"base": "2022"}))
    assert plain.headers["X-Cache"] == "miss" and with_growth.headers["X-Cache"] == "miss"
    assert again.headers["X-Cache"] == "hit"
    assert again.json()["growth"] == with_growth.json()["growth"]


def test_blocks_are_archived_and_read_back(client):
    made = client.post("/v1/forecasts", json=body(growth={}, full_year={})).json()
    read = client.get(f"/v1/forecasts/{made['id']}").json()
    assert read["growth"] == made["growth"] and read["full_year"] == made["full_year"]
    listed = client.get("/v1/forecasts").json()["data"]
    assert listed[0]["growth"] == made["growth"]


def test_growth_of_stored_annual_series(client, stored):
    response = client.post("/v1/forecasts", json={"series_id": stored, "horizon": 3, "growth": {"base": 2015}})
    assert response.status_code == 200, response.text
    growth = response.json()["growth"]
    assert growth["base"] == "2015" and [r["ds"] for r in growth["vs_base"]] == ["2020", "2021", "2022"]


def test_base_outside_history_is_422_naming_the_field(client):
    error = assert_error(client.post("/v1/forecasts", json=body(growth={"base": "2030"})), 422, "invalid_parameter")
    assert error["details"]["field"] == "growth.base" and "2030" in error["message"]


def test_full_year_on_annual_data_is_422_naming_the_field(client):
    request = {"data": annual(), "frequency": "annual", "horizon": 2, "full_year": {}}
    error = assert_error(client.post("/v1/forecasts", json=request), 422, "invalid_series")
    assert error["details"]["field"] == "full_year" and "annual" in error["message"]


def test_unknown_how_is_422_naming_the_field(client):
    response = client.post("/v1/forecasts", json=body(full_year={"how": "median"}))
    error = assert_error(response, 422, "validation_error")
    assert "full_year" in str(error["details"]) and "how" in str(error["details"])


def test_openapi_documents_the_options(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "base" in schemas["GrowthCreate"]["properties"]
    assert schemas["GrowthCreate"]["properties"]["base"]["description"]
    assert schemas["FullYearCreate"]["examples"] == [{"how": "sum"}]
    assert "growth" in schemas["ForecastRead"]["properties"]


def test_growth_row_without_a_rate_reads_as_null():
    from api.convert import outlook_to_read

    row = {"ds": "2024-01", "mean": None, "lo_80": None, "hi_80": None}
    params = {"growth": {"base": "2023", "how": "sum", "yoy": [row], "annual": [], "vs_base": [], "index": []}}
    read = outlook_to_read(params)["growth"]
    assert read.yoy[0].mean is None and read.model_dump()["yoy"][0]["lo_80"] is None
