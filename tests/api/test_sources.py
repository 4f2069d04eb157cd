"""POST /v1/fetch, GET /v1/sources and /v1/refreshes, and ``tradecast fetch|refresh``, on recorded responses."""

from __future__ import annotations

import logging

import httpx
import pytest
from typer.testing import CliRunner

from api import cli_sources
from api.cli import app as cli_app
from data.connectors import SourceOptions
from reports.definitions import ReportDefinition
from reports.store import ReportStore
from tests.api.conftest import make_settings
from tests.data._recorded import COMTRADE_QUERY, DBNOMICS_QUERY, IMF_QUERY, Recorded

SECRET = "comtrade-secret-key-0123456789"
DBN_ID = "dbnomics.IMF.DOT.A.CN.TMG_CIF_USD.RU"


def _use(client, recorded: Recorded, **options) -> Recorded:
    client.app.state.source_options = SourceOptions(transport=recorded.transport, **options)
    return recorded


def _envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and set(error) == {"code", "message", "details"}
    return error


def test_fetch_stores_a_vintage_then_reports_unchanged(client) -> None:
    _use(client, Recorded())
    response = client.post("/v1/fetch", json={"source": "dbnomics", "query": DBNOMICS_QUERY})
    assert response.status_code == 200, response.text
    body = response.json()
    (series,) = body["series"]
    assert series["series_id"] == DBN_ID and series["created"] is True and series["n_obs"] == 5
    assert body["source"] == "dbnomics" and body["retrieved_at"] and series["last_updated"].startswith("2026-11-20")
    again = client.post("/v1/fetch", json={"source": "dbnomics", "query": DBNOMICS_QUERY}).json()
    assert again["series"][0]["created"] is False and again["series"][0]["vintage_id"] == series["vintage_id"]
    forecast = client.post("/v1/forecasts", json={"series_id": DBN_ID, "horizon": 2, "model": "naive"})
    assert forecast.status_code == 200, forecast.text
    assert [row["ds"] for row in forecast.json()["forecast"]] == ["2021", "2022"]


def test_vintage_source_reads_back_source_query_and_retrieval_time(client) -> None:
    _use(client, Recorded())
    fetched = client.post("/v1/fetch", json={"source": "imf", "query": IMF_QUERY}).json()
    vintage_id = fetched["series"][0]["vintage_id"]
    origin = client.get(f"/v1/vintages/{vintage_id}/source")
    assert origin.status_code == 200, origin.text
    body = origin.json()
    assert (body["source"], body["query"]) == ("imf", IMF_QUERY)
    assert body["retrieved_at"] == fetched["retrieved_at"] and body["published_at"].startswith("2026-11-27T09:15:02")
    _envelope(client.get("/v1/vintages/999999/source"), 404, "vintage_not_found")


def test_vintage_source_by_the_series_own_vintage_number(client) -> None:
    # A vintage stored before the fetch makes the global id differ from the series' number 1.
    upload = {"series_id": "other", "frequency": "annual", "data": [{"ds": "2000", "y": 1.0}, {"ds": "2001", "y": 2.0}]}
    assert client.post("/v1/series", json=upload).status_code == 201
    _use(client, Recorded())
    fetched = client.post("/v1/fetch", json={"source": "imf", "query": IMF_QUERY, "series_id": "cn_ru"}).json()
    vintage_id = fetched["series"][0]["vintage_id"]
    assert vintage_id != 1
    by_number = client.get("/v1/series/cn_ru/vintages/1/source")
    assert by_number.status_code == 200, by_number.text
    assert by_number.json() == client.get(f"/v1/vintages/{vintage_id}/source").json()
    assert by_number.json()["vintage_id"] == vintage_id and by_number.json()["query"] == IMF_QUERY
    # The global id of the series' vintage is accepted too, as wherever a vintage is named.
    assert client.get(f"/v1/series/cn_ru/vintages/{vintage_id}/source").json() == by_number.json()
    _envelope(client.get("/v1/series/cn_ru/vintages/9/source"), 404, "vintage_not_found")
    _envelope(client.get("/v1/series/other/vintages/1/source"), 404, "vintage_not_found")  # uploaded, not fetched
    _envelope(client.get("/v1/series/nowhere/vintages/1/source"), 404, "series_not_found")


def test_fetch_under_a_chosen_id(client) -> None:
    _use(client, Recorded())
    body = {"source": "imf", "query": IMF_QUERY, "series_id": "cn_ru_exports"}
    assert client.post("/v1/fetch", json=body).json()["series"][0]["series_id"] == "cn_ru_exports"
    assert client.get("/v1/series/cn_ru_exports").status_code == 200


def test_list_sources(client) -> None:
    names = [s["name"] for s in client.get("/v1/sources").json()]
    assert names == ["imf", "ecb", "comtrade", "dbnomics"]


@pytest.mark.parametrize(
    ("recorded", "body", "status", "code"),
    [
        (Recorded(), {"source": "fred", "query": "X/Y"}, 422, "unknown_source"),
        (Recorded(), {"source": "imf", "query": "IMTS"}, 422, "invalid_query"),
        (Recorded(), {"source": "imf", "query": "IMTS/CHN.XG_FOB_USD.ZZZ.A"}, 404, "empty_result"),
        (Recorded(status=400), {"source": "imf", "query": IMF_QUERY}, 422, "invalid_query"),
        (Recorded(status=500), {"source": "imf", "query": IMF_QUERY}, 502, "source_unavailable"),
        (Recorded(body=b"<html/>"), {"source": "imf", "query": IMF_QUERY}, 502, "source_bad_response"),
        (
            Recorded(error=lambda r: httpx.ConnectTimeout("slow", request=r)),
            {"source": "imf", "query": IMF_QUERY},
            504,
            "source_timeout",
        ),
    ],
)
def test_fetch_errors_use_the_envelope(client, recorded, body, status, code) -> None:
    _use(client, recorded)
    error = _envelope(client.post("/v1/fetch", json=body), status, code)
    assert body["source"] in error["message"]
    assert client.get("/v1/series").json()["count"] == 0  # nothing stored


def test_comtrade_key_never_reaches_logs_or_responses(tmp_path, caplog) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, comtrade_key=SECRET)
    assert SECRET not in repr(settings) and SECRET not in repr(settings.sources)
    with TestClient(create_app(settings)) as client:
        recorded = Recorded()
        client.app.state.source_options = SourceOptions(
            transport=recorded.transport, comtrade_key=settings.sources.options().comtrade_key
        )
        ok = client.post("/v1/fetch", json={"source": "comtrade", "query": COMTRADE_QUERY})
        client.app.state.source_options = SourceOptions(transport=Recorded(status=503).transport, comtrade_key=SECRET)
        failed = client.post("/v1/fetch", json={"source": "comtrade", "query": COMTRADE_QUERY})
    assert ok.status_code == 200 and failed.status_code == 502
    assert recorded.requests[0].headers["Ocp-Apim-Subscription-Key"] == SECRET
    assert SECRET not in ok.text + failed.text
    assert SECRET not in caplog.text


def test_refreshes_crud_and_run_now(client) -> None:
    _use(client, Recorded())
    body = {"name": "cn-ru", "source": "dbnomics", "query": DBNOMICS_QUERY, "schedule": "0 6 * * 1"}
    created = client.post("/v1/refreshes", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["last_run_at"] is None
    _envelope(client.post("/v1/refreshes", json=body), 409, "refresh_exists")
    _envelope(
        client.post("/v1/refreshes", json={**body, "name": "x", "schedule": "0 0 30 2 *"}), 422, "schedule_never_fires"
    )
    _envelope(client.post("/v1/refreshes", json={**body, "name": "y", "source": "fred"}), 422, "invalid_refresh")
    assert client.get("/v1/refreshes").json()["count"] == 1

    ReportStore.for_store(client.app.state.store).create_definition(
        ReportDefinition(name="cn-ru-report", series_ids=(DBN_ID,), horizon=2, model="naive", schedule=None)
    )
    run = client.post("/v1/refreshes/cn-ru/run")
    assert run.status_code == 200, run.text
    assert run.json()["series"][0]["created"] is True
    assert [(r["name"], r["status"]) for r in run.json()["reports"]] == [("cn-ru-report", "succeeded")]
    assert client.get("/v1/refreshes/cn-ru").json()["last_status"] == "succeeded"
    rerun = client.post("/v1/refreshes/cn-ru/run").json()
    assert rerun["series"][0]["created"] is False and rerun["reports"] == []

    assert client.delete("/v1/refreshes/cn-ru").status_code == 204
    _envelope(client.get("/v1/refreshes/cn-ru"), 404, "refresh_not_found")
    _envelope(client.post("/v1/refreshes/cn-ru/run"), 404, "refresh_not_found")


# -- command line ----------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRADECAST_REPORT_DIR", str(tmp_path / "html"))
    recorded = Recorded()
    monkeypatch.setattr(cli_sources, "source_options", lambda settings: SourceOptions(transport=recorded.transport))
    return recorded


def test_cli_fetch_then_unchanged(cli_env) -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, ["fetch", "imf", IMF_QUERY, "--series-id", "cn_ru_exports"])
    assert first.exit_code == 0, first.output
    assert "fetched 1 series from imf" in first.output and "cn_ru_exports: vintage 1 (new vintage)" in first.output
    again = runner.invoke(cli_app, ["fetch", "imf", IMF_QUERY, "--series-id", "cn_ru_exports"])
    assert "vintage 1 (unchanged, no new vintage)" in again.output
    shown = runner.invoke(cli_app, ["series", "show", "cn_ru_exports"])
    assert "vintage 1 of 1" in shown.output and "2019       49484.5" in shown.output


def test_cli_fetch_errors_exit_1(cli_env) -> None:
    result = CliRunner().invoke(cli_app, ["fetch", "fred", "X/Y"])
    assert result.exit_code == 1 and "error (unknown_source)" in result.output


def test_cli_refresh_add_list_run_delete(cli_env) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli_app,
        ["refresh", "add", "cn-ru", "dbnomics", DBNOMICS_QUERY, "--schedule", "0 6 * * 1", "--series-id", "cn_ru_imp"],
    )
    assert added.exit_code == 0, added.output
    bad = runner.invoke(cli_app, ["refresh", "add", "bad", "dbnomics", DBNOMICS_QUERY, "--schedule", "sometimes"])
    assert bad.exit_code == 1 and "cron" in bad.output
    assert "cn-ru  dbnomics" in runner.invoke(cli_app, ["refresh", "list"]).output
    ran = runner.invoke(cli_app, ["refresh", "run", "cn-ru"])
    assert ran.exit_code == 0 and "cn_ru_imp: vintage 1 (new vintage)" in ran.output
    assert "succeeded" in runner.invoke(cli_app, ["refresh", "list"]).output
    assert runner.invoke(cli_app, ["refresh", "delete", "cn-ru"]).exit_code == 0
    assert runner.invoke(cli_app, ["refresh", "delete", "cn-ru"]).exit_code == 1


def test_refresh_records_progress_of_its_fetch_and_report_runs(client) -> None:
    _use(client, Recorded())
    body = {"name": "cn-ru", "source": "dbnomics", "query": DBNOMICS_QUERY, "schedule": "0 6 * * 1"}
    assert client.post("/v1/refreshes", json=body).status_code == 201
    assert client.get("/v1/refreshes/cn-ru").json()["progress"] is None  # never run
    ReportStore.for_store(client.app.state.store).create_definition(
        ReportDefinition(name="cn-ru-report", series_ids=(DBN_ID,), horizon=2, model="naive", schedule=None)
    )
    assert client.post("/v1/refreshes/cn-ru/run").status_code == 200
    progress = client.get("/v1/refreshes/cn-ru").json()["progress"]
    # The fetch, then the one report run it triggered.
    assert (progress["n_total"], progress["n_done"], progress["n_failed"]) == (2, 2, 0)
    assert progress["eta_seconds"] == 0 and progress["failures"] == []
