"""Issue 35 through REST: internal webhooks refused, read keys see redacted URLs, wide rows and
never-firing schedules cannot stall the service, titles checked, runs pruned, runs not held by
a slow receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.settings import Settings, parse_api_keys
from tests.api.conftest import TestClient, annual, assert_error, make_settings
from tests.local_servers import socket_server
from tests.reports.delivery_servers import WEBHOOK_SECRET, http_receiver

AS_OF = "2024-01-15T12:00:00+00:00"
READ_KEY = "read-key-0123456789"
WRITE_KEY = "write-key-0123456789"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "report_dir": tmp_path / "reports",
        "backtest_windows": 1,
        "scheduler_enabled": False,
        "webhook_secret": WEBHOOK_SECRET,
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as test_client:
        assert test_client.post("/v1/series", json=_series()).status_code == 201
        yield test_client


def _series() -> dict[str, Any]:
    return {"series_id": "cn_ru", "frequency": "annual", "data": annual()}


def _definition(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "cn-ru", "series_ids": ["cn_ru"], "horizon": 2, "model": "naive"}
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://[::1]:8000/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://metadata.google.internal/computeMetadata/v1/", "internal_name"),
    ],
)
def test_report_with_internal_webhook_is_422_naming_the_rule(client: TestClient, url: str, rule: str) -> None:
    response = client.post("/v1/reports", json=_definition(delivery={"webhook_url": url}))
    error = assert_error(response, 422, "webhook_address_refused", f"({rule})")
    assert error["details"] == {"field": "delivery.webhook_url", "rule": rule}
    update = client.put("/v1/reports/cn-ru", json=_definition(delivery={"webhook_url": url}))
    assert update.status_code in (404, 422)  # never stored


def test_allow_list_setting_admits_an_internal_receiver(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, webhook_allow_hosts="127.0.0.0/8"))) as client:
        assert client.post("/v1/series", json=_series()).status_code == 201
        created = client.post("/v1/reports", json=_definition(delivery={"webhook_url": "http://127.0.0.1:9/h"}))
        assert created.status_code == 201, created.text


def test_allow_list_setting_refuses_what_is_not_a_host() -> None:
    with pytest.raises(ValueError, match="TRADECAST_WEBHOOK_ALLOW_HOSTS"):
        Settings(webhook_allow_hosts="10.0.0.0/8, http://x/?")


def test_read_scope_key_sees_the_webhook_url_without_its_query(tmp_path: Path) -> None:
    keys = f"{READ_KEY}:read,{WRITE_KEY}:write"
    settings = _settings(tmp_path, api_keys=keys, webhook_allow_hosts="hooks.example.org")
    url = "https://hooks.example.org/tradecast?token=s3cr3t-token#frag"
    writer, reader = {"Authorization": f"Bearer {WRITE_KEY}"}, {"Authorization": f"Bearer {READ_KEY}"}
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/series", json=_series(), headers=writer).status_code == 201
        created = client.post("/v1/reports", json=_definition(delivery={"webhook_url": url}), headers=writer)
        assert created.status_code == 201, created.text
        assert client.get("/v1/reports/cn-ru", headers=writer).json()["delivery"]["webhook_url"] == url
        one = client.get("/v1/reports/cn-ru", headers=reader)
        listed = client.get("/v1/reports", headers=reader)
    assert one.json()["delivery"]["webhook_url"] == "https://hooks.example.org/tradecast?…"
    assert listed.json()["data"][0]["delivery"]["webhook_url"] == "https://hooks.example.org/tradecast?…"
    assert "s3cr3t-token" not in one.text + listed.text


@pytest.mark.parametrize("title", ["Trade\r\nBcc: x@example.org", "Trade\nnext", "Trade\u2028x", "T\u2029", "T\x00"])
def test_report_title_with_a_line_break_or_control_character_is_422(client: TestClient, title: str) -> None:
    response = client.post("/v1/reports", json=_definition(title=title))
    assert_error(response, 422, "invalid_parameter", "title must be one line")


def test_six_field_schedule_is_422_with_a_clear_message(client: TestClient) -> None:
    response = client.post("/v1/reports", json=_definition(schedule="* * * * * *"))
    assert_error(response, 422, "invalid_parameter", "5 fields (minute hour day month day_of_week)")


def test_per_second_schedules_are_refused_in_production() -> None:
    with pytest.raises(ValueError, match="TRADECAST_SCHEDULE_SECONDS"):
        Settings(env="production", schedule_seconds=True)


def test_listing_a_schedule_whose_day_never_fires_is_fast(client: TestClient) -> None:
    # Day 30 of February never comes; OR'd with Monday it fires on February Mondays only.
    created = client.post("/v1/reports", json=_definition(schedule="0 0 30 2 1"))
    assert created.status_code == 201, created.text
    started = time.perf_counter()
    for _ in range(5):
        listed = client.get("/v1/reports")
        one = client.get("/v1/reports/cn-ru")
    took = (time.perf_counter() - started) / 5
    assert listed.status_code == 200 and one.status_code == 200
    assert datetime.fromisoformat(one.json()["next_run_at"]).month == 2
    assert datetime.fromisoformat(one.json()["next_run_at"]).weekday() == 0
    assert took < 0.5, took  # was 1.6-10 s: a search to the year 9999 per listing


def test_wide_data_row_under_a_narrow_header_is_refused_at_once(client: TestClient) -> None:
    data = b"ds,y\n2020,1" + b"," * 79_998 + b"\n2021,2\n"
    started = time.perf_counter()
    response = client.post("/v1/series", files={"file": ("wide.csv", data)}, data={"series_id": "w"})
    took = time.perf_counter() - started
    error = assert_error(response, 422, "invalid_input", "line 2 has 80,000 fields")
    assert error["details"]["line"] == 2 and "TRADECAST_MAX_UPLOAD_COLUMNS" in error["message"]
    assert took < 1.0, took  # was 14-17 s of CPU and +130 MB


def test_wide_quoted_row_is_refused_at_once(client: TestClient) -> None:
    data = b"ds,y\n2020,1" + b',""' * 60_000 + b"\n"
    started = time.perf_counter()
    response = client.post("/v1/series", files={"file": ("wide.csv", data)}, data={"series_id": "w"})
    assert_error(response, 422, "invalid_input", "line 2 has 60,002 fields")
    assert time.perf_counter() - started < 1.0


def test_api_key_holding_a_colon_never_shows_in_the_error() -> None:
    with pytest.raises(ValueError) as info:
        parse_api_keys("abcd:efgh-secret-part")
    assert "efgh" not in str(info.value) and "abcd" not in str(info.value)
    assert "entry #1" in str(info.value)
    [key] = parse_api_keys("abcd:efgh-secret-part:write")
    assert key.scope == "write" and key.secret == b"abcd:efgh-secret-part"


def test_a_receiver_that_never_answers_does_not_hold_other_runs(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, webhook_allow_hosts="127.0.0.1", delivery_timeout_seconds=4, delivery_deadline_seconds=4
    )
    # The receiver accepts and never answers.
    with socket_server(path="/hook") as url, TestClient(create_app(settings)) as client:
        assert client.post("/v1/series", json=_series()).status_code == 201
        hanging = _definition(name="hangs", delivery={"webhook_url": url})
        assert client.post("/v1/reports", json=hanging).status_code == 201
        assert client.post("/v1/reports", json=_definition(name="other")).status_code == 201
        started = time.monotonic()
        first = client.post("/v1/reports/hangs/runs", json={"as_of": AS_OF}).json()
        second = client.post("/v1/reports/other/runs", json={"as_of": AS_OF}).json()
        while client.get(f"/v1/reports/other/runs/{second['run_id']}/record").json()["status"] == "running":
            assert time.monotonic() - started < 30
            time.sleep(0.05)
        other_done = time.monotonic() - started
        hung = client.get(f"/v1/reports/hangs/runs/{first['run_id']}/record").json()
        # The first run's webhook is still waiting on its receiver while the second run is done.
        assert hung["status"] == "succeeded" and hung["deliveries"][0]["status"] == "pending", hung
        assert other_done < 4, other_done
        while (
            client.get(f"/v1/reports/hangs/runs/{first['run_id']}/record").json()["deliveries"][0]["status"]
            == "pending"
        ):
            assert time.monotonic() - started < 30
            time.sleep(0.1)
        final = client.get(f"/v1/reports/hangs/runs/{first['run_id']}/record").json()["deliveries"][0]
    assert final["status"] == "failed" and final["error"].startswith("timeout") and final["attempts"] == 1


def test_delivered_webhook_to_an_allowed_receiver_still_works(tmp_path: Path) -> None:
    from tests.api.test_reports import run_and_wait

    with http_receiver() as receiver:
        settings = _settings(tmp_path, webhook_allow_hosts="127.0.0.1")
        with TestClient(create_app(settings)) as client:
            assert client.post("/v1/series", json=_series()).status_code == 201
            body = _definition(delivery={"webhook_url": receiver.url})
            assert client.post("/v1/reports", json=body).status_code == 201
            record = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert [(d["status"], d["error"]) for d in record["deliveries"]] == [("sent", None)]
    assert len(receiver.requests) == 1


def test_retention_prunes_old_runs_with_their_files_but_keeps_the_latest(tmp_path: Path) -> None:
    from api.retention import ArchivePruner
    from reports.retention import prune_runs
    from reports.store import ReportStore
    from tests.api.test_reports import run_and_wait

    settings = _settings(tmp_path, forecast_retention_days=30)
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/series", json=_series()).status_code == 201
        assert client.post("/v1/reports", json=_definition(formats=["html", "xlsx"])).status_code == 201
        runs = [run_and_wait(client, "cn-ru", {"as_of": f"2024-0{m}-15T12:00:00+00:00"}) for m in (1, 2, 3)]
        store = client.app.state.store  # type: ignore[attr-defined]
        reports = ReportStore.for_store(store)
        files = [Path(reports.get_run_by_id(r["run_id"]).details["file"]) for r in runs]
        xlsx = [Path(reports.get_run_by_id(r["run_id"]).details["files"]["xlsx"]) for r in runs]
        assert all(f.exists() for f in files + xlsx)
        # The first two runs are "old": pruned 40 days on; the latest successful one stays whatever its age.
        later = datetime.now(UTC) + timedelta(days=40)
        assert prune_runs(reports, timedelta(days=30), now=later) == 2
        assert [r["run_id"] for r in client.get("/v1/reports/cn-ru/runs").json()["data"]] == [runs[2]["run_id"]]
        assert [f.exists() for f in files + xlsx] == [False, False, True, False, False, True]
        assert client.get("/v1/reports/cn-ru/runs/latest").status_code == 200
        # The service's hourly pruner prunes runs too (nothing is old now).
        assert ArchivePruner(store, 30).prune_once() == 0


def _json_body_operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if "application/json" in (op.get("requestBody") or {}).get("content", {}):
                out.append((method.upper(), path.replace("{name}", "cn-ru").replace("{series_id}", "cn_ru")))
    return out


def test_too_deeply_nested_json_is_invalid_json_on_every_json_route(client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    operations = _json_body_operations(client)
    assert len(operations) >= 7
    for method, path in operations:
        response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
        error = assert_error(response, 422, "invalid_json")
        assert error["details"]["field"] == "body", (method, path)


@pytest.mark.parametrize("value", [True, False])
def test_boolean_horizon_is_422_not_1(client: TestClient, value: bool) -> None:
    data = annual()
    for path, body in (
        ("/v1/forecasts", {"data": data, "frequency": "annual", "horizon": value, "model": "naive"}),
        ("/v1/backtests", {"data": data, "frequency": "annual", "horizon": value, "models": ["naive"]}),
        ("/v1/reports", _definition(horizon=value)),
    ):
        assert_error(client.post(path, json=body), 422, "validation_error", "boolean")


def test_readme_says_the_body_limit_bounds_rest_uploads_and_the_server_does(client: TestClient) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    paragraph = readme[readme.index("A file upload (`POST /v1/series`") :][:400]
    assert "MAX_BODY_BYTES" in paragraph and "needs both raised" in paragraph
    data = b"ds,y\n" + b"".join(b"%d,1\n" % (1000 + i) for i in range(300_000))
    response = client.post("/v1/series", files={"file": ("big.csv", data)}, data={"series_id": "big"})
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_body_bytes": 2_000_000}
