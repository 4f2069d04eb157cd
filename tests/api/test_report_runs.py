"""Report runs over REST: background jobs (202 + Location), run records, delivery, secrets."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.service.reports import ReportRunner
from reports.definitions import ReportDefinition
from reports.store import ReportStore
from tests.api.conftest import TestClient, make_settings
from tests.api.test_reports import AS_OF, _annual_series, _definition, run_and_wait
from tests.reports.delivery_servers import SMTP_PASSWORD, SMTP_USER, WEBHOOK_SECRET, http_receiver, smtp_server


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Records logged under ``reports`` (a handler of its own: create_app replaces the root's)."""
    kept: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    handler = _Keep(level=logging.DEBUG)
    logger = logging.getLogger("reports")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _logged_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    return "\n".join(formatter.format(r) for r in records)


def test_run_is_a_background_job_not_the_request_thread(
    client: TestClient, stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.service.reports as service

    release = threading.Event()
    threads: list[str] = []
    real = service.execute_run

    def gated(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "execute_run", gated)
    assert client.post("/v1/reports", json=_definition()).status_code == 201
    response = client.post("/v1/reports/cn-ru/runs", json={"as_of": AS_OF})
    assert response.status_code == 202 and response.json()["status"] == "running"
    location = response.headers["Location"]
    assert client.get(location).json()["status"] == "running"  # still held back: the request did not wait
    release.set()
    record = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert record["status"] == "succeeded" and record["run_id"] == response.json()["run_id"]
    assert threads and threads[0].startswith("tradecast-reports")


def test_unexpected_failure_is_told_in_words_and_the_log_keeps_the_traceback(
    client: TestClient, stored: str, monkeypatch: pytest.MonkeyPatch, records: list[logging.LogRecord]
) -> None:
    import reports.jobs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("internal detail 0xdead at /srv/secret/path.py")

    monkeypatch.setattr(reports.jobs, "collect_report", broken)
    assert client.post("/v1/reports", json=_definition()).status_code == 201
    record = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert record["status"] == "failed" and "traceback" not in record
    assert record["error"] == f"the run failed unexpectedly; the server log has the details (run {record['run_id']})"
    for text in (
        client.get("/v1/reports/cn-ru/runs").text,
        client.get(f"/v1/reports/cn-ru/runs/{record['run_id']}/record").text,
    ):
        assert "0xdead" not in text and "Traceback" not in text
    failed = [r for r in records if r.exc_info and "failed" in r.getMessage()]
    assert failed and "0xdead" in _logged_text(failed) and "Traceback" in _logged_text(failed)


def test_run_record_of_unknown_run_is_404(client: TestClient, stored: str) -> None:
    client.post("/v1/reports", json=_definition())
    response = client.get(f"/v1/reports/cn-ru/runs/{'0' * 32}/record")
    assert response.status_code == 404 and response.json()["error"]["code"] == "run_not_found"


def test_delivered_run_shows_its_log_and_no_secret_reaches_clients_or_logs(
    tmp_path: Path, records: list[logging.LogRecord]
) -> None:
    with smtp_server(require_login=True) as box, http_receiver(statuses=[503]) as receiver:
        settings = make_settings(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=box.port,
            smtp_security="none",
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
            webhook_secret=WEBHOOK_SECRET,
            webhook_allow_hosts="127.0.0.1",  # the local receiver, allowed as an operator would
            delivery_backoff_seconds=0.01,
        )
        with TestClient(create_app(settings)) as client:
            from tests.api.conftest import annual

            body = {"series_id": "cn_ru", "frequency": "annual", "data": annual()}
            assert client.post("/v1/series", json=body).status_code == 201
            delivery = {"emails": ["manager@example.org"], "webhook_url": receiver.url}
            created = client.post("/v1/reports", json=_definition(delivery=delivery))
            assert created.status_code == 201, created.text
            record = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
            texts = [
                created.text,
                client.get("/v1/reports/cn-ru").text,
                client.get("/v1/reports").text,
                client.get(f"/v1/reports/cn-ru/runs/{record['run_id']}/record").text,
                client.get("/v1/reports/cn-ru/runs").text,
                client.get("/openapi.json").text,
            ]
    assert record["status"] == "succeeded", record
    deliveries = [(d["channel"], d["status"], d["attempts"]) for d in record["deliveries"]]
    assert deliveries == [("email", "sent", 1), ("webhook", "sent", 2)]
    assert len(box.messages) == 1 and len(receiver.requests) == 2
    [listed] = [r for r in json.loads(texts[4])["data"] if r["run_id"] == record["run_id"]]
    assert listed["deliveries"] == record["deliveries"]
    logged = _logged_text(records)
    assert "delivery webhook" in logged and "attempt 1/3 failed" in logged
    for secret in (SMTP_PASSWORD, WEBHOOK_SECRET):
        assert all(secret not in text for text in texts) and secret not in logged


def test_run_interrupted_by_a_stop_is_redone_when_the_service_starts(tmp_path: Path) -> None:
    from data import SeriesMeta, Store

    settings = make_settings(tmp_path, report_dir=tmp_path / "out", job_lease_seconds=1)
    store = Store.from_url(settings.store.database_url)
    store.create_schema()
    store.series.save_series(SeriesMeta("cn_ru", frequency="annual"), _annual_series())
    reports = ReportStore.for_store(store)
    reports.create_definition(ReportDefinition(name="cn-ru", series_ids=("cn_ru",), model="drift", schedule=None))
    # A run claimed by a process that then died: its lease ran out and nobody finished it.
    claimed = reports.claim_run("cn-ru", datetime(2024, 1, 15, 12, tzinfo=UTC), trigger="api", lease_seconds=-1)
    assert claimed is not None and claimed.status == "running"
    store.dispose()
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 30
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = client.get("/v1/reports/cn-ru/runs").json()["data"]
            if runs and runs[0]["status"] != "running":
                break
            time.sleep(0.1)
    assert len(runs) == 1 and runs[0]["status"] == "succeeded", runs
    assert (
        runs[0]["as_of"].startswith("2024-01-15T12:00:00")
        and runs[0]["started_at"] > claimed.started_at.isoformat()[:19]
    )


def test_forced_rerun_is_accepted_again(client: TestClient, stored: str) -> None:
    client.post("/v1/reports", json=_definition())
    first = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    response = client.post("/v1/reports/cn-ru/runs", json={"as_of": AS_OF, "force": True})
    assert response.status_code == 202 and response.json()["run_id"] == first["run_id"]
    again = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert again["status"] == "succeeded" and again["finished_at"] >= first["finished_at"]
    assert datetime.fromisoformat(again["as_of"]) - datetime.fromisoformat(AS_OF) == timedelta(0)


@pytest.mark.parametrize("secret", ["changeme", "short-secret"])
def test_placeholder_or_short_webhook_secret_is_refused_outside_development(tmp_path: Path, secret: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="TRADECAST_WEBHOOK_SECRET") as info:
        make_settings(tmp_path, webhook_secret=secret)
    assert secret not in str(info.value)
    assert (
        make_settings(tmp_path, env="development", webhook_secret=secret).delivery.webhook_secret.get_secret_value()
        == secret
    )


def test_settings_hand_delivery_options_to_the_report_runner(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, smtp_host="mail.example.org", smtp_password="pw-0123456789", delivery_max_attempts=5
    )
    options = settings.reports.delivery
    assert options == settings.delivery and options.smtp_host == "mail.example.org" and options.max_attempts == 5
    assert "pw-0123456789" not in repr(settings) and "pw-0123456789" not in repr(options)


def test_runner_keeps_queued_leases_and_skips_a_run_taken_over(tmp_path: Path) -> None:
    from data import SeriesMeta, Store
    from reports.options import ReportOptions

    store = Store.from_url(f"sqlite:///{tmp_path / 'runner.db'}")
    store.create_schema()
    store.series.save_series(SeriesMeta("cn_ru", frequency="annual"), _annual_series())
    reports = ReportStore.for_store(store)
    definition = reports.create_definition(
        ReportDefinition(name="cn-ru", series_ids=("cn_ru",), model="drift", schedule=None)
    ).definition
    runner = ReportRunner(store, ReportOptions(report_dir=None, lease_seconds=1.5))
    try:
        blocker = threading.Event()
        runner._pool.submit(blocker.wait, 10)  # the one worker is busy: the next run waits in the queue
        queued = reports.claim_run("cn-ru", datetime(2024, 1, 15, tzinfo=UTC), trigger="api", lease_seconds=1.5)
        stolen = reports.claim_run("cn-ru", datetime(2024, 1, 16, tzinfo=UTC), trigger="api", lease_seconds=1.5)
        assert queued is not None and stolen is not None
        first, second = runner.submit(queued, definition), runner.submit(stolen, definition)
        time.sleep(2.5)  # past the claim's lease: only the ticker's renewals keep it
        assert reports.expired_runs() == []
        # Another process takes the second run over (say this one stalled): it must not be produced twice.
        with store.engine.begin() as conn:
            from data.tables import ReportRunsTable

            table = ReportRunsTable.__table__
            conn.execute(table.update().where(table.c.id == stolen.run_id).values(id="f" * 32))
        blocker.set()
        assert first.result(timeout=30) is not None and first.result().status == "succeeded"
        assert second.result(timeout=30) is None
        assert reports.get_run_by_id("f" * 32).status == "running"  # left to the process that took it
    finally:
        runner.shutdown()
        store.dispose()


def _store_annual(client: TestClient, series_id: str) -> None:
    from tests.api.conftest import annual

    body = {"series_id": series_id, "name": series_id, "frequency": "annual", "data": annual()}
    assert client.post("/v1/series", json=body).status_code == 201


def test_running_run_shows_progress_and_a_run_with_a_failed_series_is_partial(
    client: TestClient, stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reports.jobs

    for series_id in ("b", "c"):
        _store_annual(client, series_id)
    released = threading.Semaphore(0)
    real = reports.jobs.compute_section

    def slow(series_id: str, *args: Any, **kwargs: Any) -> Any:  # a slow model, and one that breaks on "c"
        assert released.acquire(timeout=20), "the test never let this series end"
        if series_id == "c":
            raise RuntimeError("boom")
        return real(series_id, *args, **kwargs)

    monkeypatch.setattr(reports.jobs, "compute_section", slow)
    assert client.post("/v1/reports", json=_definition(series_ids=["cn_ru", "b", "c"])).status_code == 201
    response = client.post("/v1/reports/cn-ru/runs", json={"as_of": AS_OF})
    location = response.headers["Location"]
    released.release()
    deadline = time.monotonic() + 20
    record = response.json()
    while not (record["progress"] or {}).get("n_done") and time.monotonic() < deadline:
        time.sleep(0.02)
        record = client.get(location).json()
    assert record["status"] == "running" and record["n_series"] == 0  # n_series is known at the end
    assert record["progress"]["n_total"] == 3 and record["progress"]["n_done"] == 1
    assert record["progress"]["eta_seconds"] is not None
    assert record["links"] == {"html": None, "pdf": None, "xlsx": None}  # nothing to download yet
    released.release()
    released.release()
    done = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert done["status"] == "partial" and done["n_series"] == 3 and done["n_failed"] == 1
    assert done["progress"]["n_done"] == 3 and done["progress"]["n_failed"] == 1
    assert [f["item"] for f in done["progress"]["failures"]] == ["c"]
    assert client.get(f"/v1/reports/cn-ru/runs/{done['run_id']}").status_code == 200  # a partial run is served


def test_run_record_links_download_the_workbook(client: TestClient, stored: str) -> None:
    assert client.post("/v1/reports", json=_definition(formats=["html", "xlsx"])).status_code == 201
    run = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert run["status"] == "succeeded", run
    base = f"/v1/reports/cn-ru/runs/{run['run_id']}"
    assert run["links"] == {"html": base, "pdf": f"{base}/pdf", "xlsx": f"{base}/xlsx"}
    workbook = client.get(run["links"]["xlsx"])
    assert workbook.status_code == 200, workbook.text
    assert workbook.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook.content.startswith(b"PK") and "attachment" in workbook.headers["content-disposition"]
    assert client.get("/v1/reports/cn-ru/runs/latest/xlsx").content == workbook.content
    assert client.get(run["links"]["html"]).headers["content-type"].startswith("text/html")


def test_run_without_a_workbook_has_no_link_and_its_download_is_404(client: TestClient, stored: str) -> None:
    from tests.api.conftest import assert_error

    assert client.post("/v1/reports", json=_definition()).status_code == 201
    run = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert run["links"]["xlsx"] is None and run["links"]["html"]
    error = assert_error(client.get(f"/v1/reports/cn-ru/runs/{run['run_id']}/xlsx"), 404, "run_file_not_found")
    assert "formats" in error["message"]
    assert_error(client.get(f"/v1/reports/cn-ru/runs/{'0' * 32}/xlsx"), 404, "run_not_found")


def test_report_routes_reach_the_report_package_only_through_the_service() -> None:
    import ast

    import api.routes.reports as routes

    tree = ast.parse(Path(routes.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not imported & {"reports.pdf", "reports.scheduler", "reports.store"}, imported
    import api.routes.sources as sources

    for module in (routes, sources):
        body = ast.parse(Path(module.__file__).read_text(encoding="utf-8")).body
        classes = [node.name for node in body if isinstance(node, ast.ClassDef)]
        assert classes == [], f"schemas belong in api/schemas.py, not {module.__name__}: {classes}"
