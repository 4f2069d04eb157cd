"""/v1/reports and `tradecast report create` with drivers, events and scenarios in series_options."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.main import create_app
from tests.api.conftest import TestClient, assert_error, make_settings
from tests.api.test_cli_reports import _invoke, cli_env  # noqa: F401  (the CLI's store fixture)
from tests.api.test_reports import AS_OF, _definition, run_and_wait

OPTIONS = {
    "cn_ru": {
        "model": "structural",
        "drivers": {"oil": "oil_usd"},
        "events": [{"ds": "2009", "type": "pulse"}],
        "scenarios": {"low": {"oil": "oil_low"}},
    }
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, report_dir=tmp_path / "reports", backtest_windows=1, scheduler_enabled=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _store_drivers(client: TestClient) -> None:
    """Annual drivers 2000-2024 (the series, cn_ru, runs 2000-2019; the report's horizon is 3)."""
    for sid, base in (("oil_usd", 60.0), ("oil_low", 40.0)):
        data = [{"ds": str(2000 + i), "y": base + (i % 5)} for i in range(25)]
        body = {"series_id": sid, "name": sid, "frequency": "annual", "unit": "USD", "data": data}
        response = client.post("/v1/series", json=body)
        assert response.status_code == 201, response.text


def test_create_read_and_run_a_report_with_drivers(client: TestClient, stored: str) -> None:
    _store_drivers(client)
    created = client.post("/v1/reports", json=_definition(series_options=OPTIONS, schedule=None))
    assert created.status_code == 201, created.text
    assert created.json()["series_options"] == OPTIONS
    assert client.get("/v1/reports/cn-ru").json()["series_options"] == OPTIONS
    update = {k: v for k, v in _definition(schedule=None, series_options=OPTIONS).items() if k != "name"}
    put = client.put("/v1/reports/cn-ru", json=update)
    assert put.status_code == 200 and put.json()["series_options"] == OPTIONS
    record = run_and_wait(client, "cn-ru", {"as_of": AS_OF}, timeout=120.0)
    assert record["status"] == "succeeded", record
    html = client.get(f"/v1/reports/cn-ru/runs/{record['run_id']}").text
    assert 'class="scenario-table"' in html and 'class="scenario-chart"' in html


def test_report_naming_an_unstored_driver_is_refused(client: TestClient, stored: str) -> None:
    response = client.post("/v1/reports", json=_definition(series_options=OPTIONS))
    assert_error(response, 422, "unknown_series", "oil_usd")


def test_bad_driver_option_is_refused_with_invalid_parameter(client: TestClient, stored: str) -> None:
    _store_drivers(client)
    bad = {"cn_ru": {**OPTIONS["cn_ru"], "scenarios": {"low": {"gas": "oil_low"}}}}
    response = client.post("/v1/reports", json=_definition(series_options=bad))
    assert_error(response, 422, "invalid_parameter", "'gas'")


def test_openapi_describes_the_series_options(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SeriesOptions-Input"]
    assert {"drivers", "events", "scenarios", "driver_uncertainty"} <= set(schema["properties"])
    assert "stored series" in schema["properties"]["drivers"]["description"].lower()


def test_cli_creates_and_shows_a_report_with_drivers(cli_env: Path) -> None:  # noqa: F811
    from data import SeriesMeta, Store
    from tests.api.test_reports import _annual_series

    store = Store.from_url(f"sqlite:///{cli_env / 'cli.db'}")
    for sid in ("oil_usd", "oil_low"):
        store.series.save_series(SeriesMeta(sid, frequency="annual"), _annual_series())
    store.dispose()
    path = cli_env / "report.json"
    spec = {"series_ids": ["cn_ru"], "model": "drift", "horizon": 2, "schedule": None, "series_options": OPTIONS}
    path.write_text(json.dumps(spec))
    code, output = _invoke("report", "create", "drv", "--file", str(path))
    assert code == 0, output
    shown = _invoke("report", "show", "drv", "--runs", "0")[1]
    assert json.loads(shown[: shown.index("\n}") + 2])["series_options"] == OPTIONS
    bad = {**spec, "series_options": {"cn_ru": {"drivers": ["oil_usd"], "model": "naive"}}}
    path.write_text(json.dumps(bad))
    code, output = _invoke("report", "create", "bad", "--file", str(path))
    assert code != 0 and "takes no drivers" in output
