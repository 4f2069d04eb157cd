"""/v1/reports: definitions CRUD, run now, run history, HTML of a run and of the latest run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import TestClient, annual, assert_error, make_settings

AS_OF = "2024-01-15T12:00:00+00:00"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, report_dir=tmp_path / "reports", backtest_windows=2, scheduler_enabled=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _in_progress(record: dict[str, Any]) -> bool:
    return record["status"] == "running" or any(d["status"] == "pending" for d in record["deliveries"])


def run_and_wait(client: TestClient, name: str, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """POST a run (202 or 200), then poll its record at the Location header until it is done
    (finished, and no delivery pending)."""
    import time

    response = client.post(f"/v1/reports/{name}/runs", json=body)
    assert response.status_code in (200, 202), response.text
    location = response.headers["Location"]
    assert location == f"/v1/reports/{name}/runs/{response.json()['run_id']}/record"
    deadline = time.monotonic() + timeout
    record = response.json()
    while _in_progress(record) and time.monotonic() < deadline:
        time.sleep(0.05)
        record = client.get(location).json()
    return record


def _definition(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "cn-ru",
        "title": "China-Russia",
        "series_ids": ["cn_ru"],
        "horizon": 3,
        "levels": [80, 95],
        "model": "drift",
        "schedule": "0 7 * * 1",
        "timezone": "Europe/Moscow",
    }
    body.update(overrides)
    return body


@pytest.fixture
def report(client: TestClient, stored: str) -> str:
    response = client.post("/v1/reports", json=_definition())
    assert response.status_code == 201, response.text
    return "cn-ru"


def test_create_read_list_report(client: TestClient, report: str) -> None:
    body = client.get(f"/v1/reports/{report}").json()
    assert body["name"] == "cn-ru" and body["series_ids"] == ["cn_ru"] and body["model"] == "drift"
    assert body["timezone"] == "Europe/Moscow" and body["enabled"] is True
    assert body["next_run_at"] is not None and body["next_run_at"].endswith("+03:00")
    page = client.get("/v1/reports").json()
    assert page["count"] == 1 and page["data"][0]["name"] == "cn-ru"


def test_update_and_delete_report(client: TestClient, report: str) -> None:
    update = {k: v for k, v in _definition(title="Renamed", horizon=2).items() if k != "name"}
    response = client.put(f"/v1/reports/{report}", json=update)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Renamed" and response.json()["horizon"] == 2
    assert client.delete(f"/v1/reports/{report}").status_code == 204
    assert_error(client.get(f"/v1/reports/{report}"), 404, "report_not_found")
    assert_error(client.delete(f"/v1/reports/{report}"), 404, "report_not_found")


def test_duplicate_report_is_409(client: TestClient, report: str) -> None:
    assert_error(client.post("/v1/reports", json=_definition()), 409, "report_exists", "already exists")


@pytest.mark.parametrize(
    ("overrides", "code", "contains"),
    [
        ({"schedule": "every monday"}, "invalid_parameter", "cron"),
        ({"timezone": "Mars/Olympus"}, "invalid_parameter", "IANA"),
        ({"model": "prophet"}, "invalid_parameter", "registered model"),
        ({"series_ids": [], "tags": {}}, "invalid_parameter", "selects no series"),
        ({"series_ids": ["cn_ru", "nowhere"]}, "unknown_series", "nowhere"),
        ({"schedule": "0 0 30 2 *"}, "schedule_never_fires", "never fires"),
        ({"delivery": {"emails": ["a@example.org"]}}, "invalid_parameter", "TRADECAST_SMTP_HOST"),
        ({"delivery": {"webhook_url": "https://example.org/h"}}, "invalid_parameter", "TRADECAST_WEBHOOK_SECRET"),
        ({"delivery": {"emails": ["nobody"]}}, "invalid_parameter", "delivery.emails"),
        ({"horizon": 0}, "validation_error", None),
        ({"name": "Bad Name"}, "validation_error", None),
        ({"colour": "red"}, "validation_error", None),
    ],
)
def test_invalid_report_is_422(
    client: TestClient, stored: str, overrides: dict[str, Any], code: str, contains: str | None
) -> None:
    assert_error(client.post("/v1/reports", json=_definition(**overrides)), 422, code, contains)


def test_update_unknown_report_is_404(client: TestClient) -> None:
    body = {k: v for k, v in _definition().items() if k != "name"}
    assert_error(client.put("/v1/reports/nope", json=body), 404, "report_not_found")


def test_run_now_then_history_and_html(client: TestClient, report: str, tmp_path: Path) -> None:
    response = client.post(f"/v1/reports/{report}/runs", json={"as_of": AS_OF})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running"
    run = run_and_wait(client, report, {"as_of": AS_OF})
    assert run["status"] == "succeeded" and run["trigger"] == "api" and run["n_series"] == 1
    assert run["as_of"].startswith("2024-01-15T12:00:00")
    assert Path(run["details"]["file"]).is_file() and str(tmp_path) in run["details"]["file"]
    again = client.post(f"/v1/reports/{report}/runs", json={"as_of": AS_OF})
    assert again.status_code == 200 and again.json()["run_id"] == run["run_id"]  # idempotent on (name, as_of)
    history = client.get(f"/v1/reports/{report}/runs").json()
    assert history["count"] == 1 and history["data"][0]["duration_s"] >= 0
    html = client.get(f"/v1/reports/{report}/runs/{run['run_id']}")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and html.text.count('class="forecast-row"') == 3
    latest = client.get(f"/v1/reports/{report}/runs/latest")
    assert latest.status_code == 200 and latest.text == html.text


def test_failed_run_is_reported_with_error_but_no_traceback(client: TestClient, stored: str) -> None:
    assert client.post("/v1/reports", json=_definition(name="broken")).status_code == 201
    assert client.delete(f"/v1/series/{stored}").status_code == 204  # gone after the report was made
    run = run_and_wait(client, "broken", {"as_of": AS_OF})
    assert run["status"] == "failed" and stored in run["error"] and "traceback" not in run
    assert "Traceback" not in client.get("/v1/reports/broken/runs").text
    assert_error(client.get(f"/v1/reports/broken/runs/{run['run_id']}"), 404, "run_not_found", "no HTML")
    assert_error(client.get("/v1/reports/broken/runs/latest"), 404, "run_not_found", "no successful run")


def test_run_of_unknown_report_or_run_is_404(client: TestClient, report: str) -> None:
    assert_error(client.post("/v1/reports/nope/runs", json={}), 404, "report_not_found")
    assert_error(client.get("/v1/reports/nope/runs"), 404, "report_not_found")
    assert_error(client.get(f"/v1/reports/{report}/runs/{'0' * 32}"), 404, "run_not_found")


def test_run_as_of_must_have_timezone(client: TestClient, report: str) -> None:
    assert_error(
        client.post(f"/v1/reports/{report}/runs", json={"as_of": "2024-01-15T12:00:00"}), 422, "validation_error"
    )


def test_report_over_tags_includes_matching_series(client: TestClient, stored: str) -> None:
    other = {"series_id": "in_ru", "frequency": "annual", "tags": {"partner": "RU"}, "data": annual()}
    assert client.post("/v1/series", json=other).status_code == 201
    client.post("/v1/reports", json=_definition(name="by-tag", series_ids=[], tags={"partner": "RU"}))
    run = run_and_wait(client, "by-tag", {"as_of": AS_OF})
    assert run["status"] == "succeeded" and set(run["details"]["series"]) == {"cn_ru", "in_ru"}


def test_service_start_runs_missed_scheduled_report_once(settings: Settings, tmp_path: Path) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    from data import SeriesMeta, Store
    from reports.definitions import ReportDefinition
    from reports.store import ReportStore

    store = Store.from_url(settings.store.database_url)
    store.create_schema()
    store.series.save_series(SeriesMeta("cn_ru", frequency="annual"), _annual_series())
    ReportStore.for_store(store).create_definition(
        ReportDefinition(name="daily", series_ids=("cn_ru",), model="drift", schedule="0 3 * * *"),
        now=datetime.now(UTC) - timedelta(days=3),
    )
    store.dispose()
    scheduling = settings.model_copy(update={"scheduler_enabled": True, "report_dir": tmp_path / "out"})
    with TestClient(create_app(scheduling)) as client:
        deadline = time.monotonic() + 15
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = client.get("/v1/reports/daily/runs").json()["data"]
            if runs and runs[0]["status"] != "running":
                break
            time.sleep(0.2)
        assert len(runs) == 1 and runs[0]["status"] == "succeeded", runs
        assert runs[0]["trigger"] == "schedule" and runs[0]["as_of"].endswith("T03:00:00Z")
        assert list((tmp_path / "out" / "daily").glob("*.html")), "the scheduled run writes to the settings' report_dir"


def _annual_series() -> Any:
    import pandas as pd

    points = annual()
    return pd.Series([p["y"] for p in points], index=pd.PeriodIndex([p["ds"] for p in points], freq="Y"), dtype=float)


def test_report_archived_forecasts_are_listed_and_read(client: TestClient, report: str) -> None:
    run = run_and_wait(client, report, {"as_of": AS_OF})
    assert run["status"] == "succeeded", run
    page = client.get("/v1/forecasts")
    assert page.status_code == 200, page.text
    (item,) = [f for f in page.json()["data"] if f["series_id"] == "cn_ru"]
    assert item["frequency"] == "annual" and item["model"] == "drift" and len(item["forecast"]) == 3
    one = client.get(f"/v1/forecasts/{item['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["frequency"] == "annual" and one.json()["vintage"]["series_id"] == "cn_ru"


def test_never_firing_schedule_is_422_naming_the_field(client: TestClient, stored: str) -> None:
    response = client.post("/v1/reports", json=_definition(schedule="0 0 30 2 *"))
    assert_error(response, 422, "schedule_never_fires", "never fires")
    assert response.json()["error"]["details"] == {
        "field": "schedule",
        "value": "0 0 30 2 *",
        "fields": ["day", "month"],
    }
    body = {k: v for k, v in _definition(schedule="0 0 31 11 *").items() if k != "name"}
    client.post("/v1/reports", json=_definition())
    assert_error(client.put("/v1/reports/cn-ru", json=body), 422, "schedule_never_fires", "day '31' of month '11'")


def test_report_listing_shows_vixie_or_schedule_next_run(client: TestClient, stored: str) -> None:
    client.post("/v1/reports", json=_definition(schedule="0 7 1 * 1", timezone="UTC"))
    nxt = datetime.fromisoformat(client.get("/v1/reports/cn-ru").json()["next_run_at"])
    # Under AND semantics the next run would be a Monday that is also the 1st, months away.
    assert nxt - datetime.now(UTC) <= timedelta(days=7)
    assert nxt.day == 1 or nxt.weekday() == 0
