"""One durable job system: structure forecasts and source refreshes as jobs, like batches.

``Prefer: respond-async`` on a structure forecast or a refresh run answers 202 with a job
(``GET /v1/jobs/{id}``) whose result is the synchronous answer, whose progress counts its
items, which is re-run once when its worker process dies, and which another instance takes
over when its lease ends.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from api.main import create_app
from api.schemas import StructureForecastCreate, StructureJobCreate
from data.connectors import SourceOptions
from data.tables import JobsTable
from forecasting.exceptions import WorkerLostError
from tests.api.conftest import TestClient, assert_error, make_settings, wait_for_job
from tests.data._recorded import DBNOMICS_QUERY, Recorded

ASYNC = {"Prefer": "respond-async"}


def _define_trade(client: TestClient) -> None:
    x = [20.0 + 1.5 * i + (i % 3) for i in range(20)]
    m = [15.0 + 1.1 * i + (i % 2) for i in range(20)]
    for sid, values in {"x": x, "m": m, "t": [a + b for a, b in zip(x, m, strict=True)]}.items():
        data = [{"ds": str(2002 + i), "y": v} for i, v in enumerate(values)]
        assert (
            client.post("/v1/series", json={"series_id": sid, "frequency": "annual", "data": data}).status_code == 201
        )
    body = {"name": "cn-ru", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive2"}
    assert client.post("/v1/structures", json=body).status_code == 201


@pytest.fixture
def pooled(tmp_path) -> Any:
    """An app fitting in a worker process (a job fits in a background thread while requests are served)."""
    with TestClient(create_app(make_settings(tmp_path, fit_workers=1))) as client:
        yield client


def test_structure_forecast_as_a_job_answers_what_the_request_answers(pooled: TestClient) -> None:
    _define_trade(pooled)
    accepted = pooled.post("/v1/structures/cn-ru/forecasts", json={"horizon": 3}, headers=ASYNC)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "structure_forecast" and job["n_items"] == 3
    done = wait_for_job(pooled, job["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1, done
    progress = done["progress"]
    assert (progress["n_total"], progress["n_done"], progress["n_failed"]) == (3, 3, 0)
    direct = pooled.post("/v1/structures/cn-ru/forecasts", json={"horizon": 3})
    assert direct.status_code == 200
    assert done["result"]["nodes"] == direct.json()["nodes"]


def test_structure_job_checks_name_and_limits_before_it_is_queued(client: TestClient) -> None:
    assert_error(
        client.post("/v1/structures/nope/forecasts", json={"horizon": 2}, headers=ASYNC), 404, "structure_not_found"
    )
    _define_trade(client)
    too_far = client.post("/v1/structures/cn-ru/forecasts", json={"horizon": 10_000}, headers=ASYNC)
    assert_error(too_far, 422, "invalid_parameter")
    assert client.app.state.store.jobs.list_expired(datetime.now(UTC) + timedelta(days=1)) == []  # nothing queued


def test_structure_job_whose_members_do_not_add_up_fails_with_the_requests_error(pooled: TestClient) -> None:
    for sid, values in {"a1": [1.0, 2, 3, 4], "b1": [1.0, 2, 3, 4], "t1": [2.0, 4, 6, 50]}.items():
        data = [{"ds": str(2000 + i), "y": v} for i, v in enumerate(values)]
        assert (
            pooled.post("/v1/series", json={"series_id": sid, "frequency": "annual", "data": data}).status_code == 201
        )
    body = {"name": "bad", "kind": "hierarchy", "hierarchy": {"t1": ["a1", "b1"]}, "model": "naive2"}
    assert pooled.post("/v1/structures", json=body).status_code == 201
    direct = pooled.post("/v1/structures/bad/forecasts", json={"horizon": 2})
    assert direct.status_code == 422
    job = wait_for_job(
        pooled, pooled.post("/v1/structures/bad/forecasts", json={"horizon": 2}, headers=ASYNC).json()["id"]
    )
    assert job["status"] == "failed" and job["error"]["code"] == direct.json()["error"]["code"]
    assert job["progress"]["n_failed"] == 1 and job["result"] is None


def test_a_job_whose_worker_died_runs_once_more(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.job_kinds as kinds

    _define_trade(client)
    real, calls = kinds.forecast_structure, []

    def dies_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise WorkerLostError("the worker process died")
        return real(*args, **kwargs)

    monkeypatch.setattr(kinds, "forecast_structure", dies_once)
    manager = client.app.state.jobs
    monkeypatch.setattr(manager, "_schedule", lambda job_id: None)  # run it here, not on the job thread
    request = StructureJobCreate(name="cn-ru", forecast=StructureForecastCreate(horizon=2))
    job = manager.submit("structure_forecast", request, 3)
    manager._run(job.id)
    done = manager.get(job.id)
    assert done.status == "succeeded" and done.attempts == 1 and len(calls) == 2
    assert done.progress is not None and done.progress.n_retried == 1 and done.progress.n_done == 3


def test_a_job_whose_worker_dies_twice_fails_never_succeeds(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.job_kinds as kinds

    _define_trade(client)

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise WorkerLostError("the worker process died")

    monkeypatch.setattr(kinds, "forecast_structure", dies)
    manager = client.app.state.jobs
    monkeypatch.setattr(manager, "_schedule", lambda job_id: None)
    job = manager.submit("structure_forecast", StructureJobCreate(name="cn-ru", forecast=StructureForecastCreate()), 3)
    manager._run(job.id)
    done = manager.get(job.id)
    assert done.status == "failed" and done.error is not None and done.error.code == "worker_lost"


def test_refresh_run_as_a_job_counts_the_fetch(client: TestClient) -> None:
    client.app.state.source_options = SourceOptions(transport=Recorded().transport)
    body = {"name": "cn-ru", "source": "dbnomics", "query": DBNOMICS_QUERY, "schedule": "0 6 * * 1"}
    assert client.post("/v1/refreshes", json=body).status_code == 201
    assert_error(client.post("/v1/refreshes/nope/run", headers=ASYNC), 404, "refresh_not_found")
    accepted = client.post("/v1/refreshes/cn-ru/run", headers=ASYNC)
    assert accepted.status_code == 202, accepted.text
    done = wait_for_job(client, accepted.json()["id"])
    assert done["kind"] == "source_refresh" and done["status"] == "succeeded", done
    assert done["result"]["name"] == "cn-ru" and done["result"]["series"][0]["created"] is True
    assert (done["progress"]["n_total"], done["progress"]["n_done"]) == (1, 1)
    assert client.get("/v1/refreshes/cn-ru").json()["last_status"] == "succeeded"


def test_batch_asked_async_is_a_job_whatever_its_size(client: TestClient) -> None:
    data = [{"ds": str(2000 + i), "y": 10.0 + i} for i in range(12)]
    body = {"series": [{"unique_id": "a", "data": data, "frequency": "annual"}], "horizon": 2, "model": "naive"}
    assert client.post("/v1/forecasts/batch", json=body).status_code == 200
    accepted = client.post("/v1/forecasts/batch", json=body, headers={"Prefer": "wait=5, respond-async"})
    assert accepted.status_code == 202 and accepted.json()["kind"] == "forecast_batch"


def test_an_interrupted_structure_job_is_taken_over_and_run_again(tmp_path) -> None:
    settings = make_settings(tmp_path, fit_workers=1)
    app = create_app(settings)
    with TestClient(app) as client:
        _define_trade(client)
        old = datetime.now(UTC) - timedelta(minutes=10)
        request = StructureJobCreate(name="cn-ru", forecast=StructureForecastCreate(horizon=2))
        with app.state.store.engine.begin() as conn:  # left running by an instance that died
            conn.execute(
                insert(JobsTable).values(
                    id="d" * 32,
                    kind="structure_forecast",
                    status="running",
                    request=request.model_dump_json(),
                    n_items=3,
                    attempts=1,
                    owner="0" * 32,
                    created_at=old,
                    updated_at=old,
                    lease_until=old,
                )
            )
    with TestClient(create_app(settings)) as client:
        job = wait_for_job(client, "d" * 32)
        assert job["status"] == "succeeded" and job["attempts"] == 2
        assert len(job["result"]["nodes"]) == 3


def test_the_service_scheduler_runs_a_due_refresh_as_a_job(tmp_path) -> None:
    from sqlalchemy import select, update

    from data.tables import SourceRefreshesTable

    settings = make_settings(tmp_path, fit_workers=1)
    with TestClient(create_app(settings)) as client:  # define a refresh stored ten days ago
        body = {"name": "cn-ru", "source": "dbnomics", "query": DBNOMICS_QUERY, "schedule": "0 6 * * *"}
        assert client.post("/v1/refreshes", json=body).status_code == 201
        old = datetime.now(UTC) - timedelta(days=10)
        with client.app.state.store.engine.begin() as conn:
            conn.execute(update(SourceRefreshesTable).values(created_at=old, updated_at=old))
    app = create_app(settings.model_copy(update={"scheduler_enabled": True}))
    app.state.source_options = SourceOptions(transport=Recorded().transport)
    with TestClient(app) as client:  # its start-up catch-up finds yesterday's 06:00 fire due
        deadline, job_id = time.monotonic() + 20, None
        while job_id is None and time.monotonic() < deadline:
            with app.state.store.engine.connect() as conn:
                job_id = conn.execute(select(JobsTable.id).where(JobsTable.kind == "source_refresh")).scalar()
            time.sleep(0.05)
        assert job_id is not None, "the scheduler queued no job"
        done = wait_for_job(client, job_id)
        assert done["status"] == "succeeded" and done["result"]["series"][0]["created"] is True


def test_jobs_are_listed_newest_first_with_progress_and_filters(client: TestClient) -> None:
    manager = client.app.state.jobs
    data = [{"ds": str(2000 + i), "y": 10.0 + i} for i in range(12)]
    body = {"series": [{"unique_id": "a", "data": data, "frequency": "annual"}], "horizon": 2, "model": "naive"}
    first = client.post("/v1/forecasts/batch", json=body, headers=ASYNC).json()["id"]
    wait_for_job(client, first)
    client.app.state.source_options = SourceOptions(transport=Recorded().transport)
    refresh = {"name": "cn-ru", "source": "dbnomics", "query": DBNOMICS_QUERY, "schedule": "0 6 * * 1"}
    assert client.post("/v1/refreshes", json=refresh).status_code == 201
    second = client.post("/v1/refreshes/cn-ru/run", headers=ASYNC).json()["id"]
    wait_for_job(client, second)
    page = client.get("/v1/jobs").json()
    assert page["count"] == 2 and [j["id"] for j in page["data"]] == [second, first]
    assert all(j["result"] is None and j["progress"]["n_done"] == j["progress"]["n_total"] for j in page["data"])
    only = client.get("/v1/jobs", params={"kind": "source_refresh", "status": "succeeded"}).json()
    assert only["count"] == 1 and only["data"][0]["id"] == second
    assert client.get("/v1/jobs", params={"limit": 1, "offset": 1}).json()["data"][0]["id"] == first
    assert client.get("/v1/jobs", params={"status": "running"}).json() == {"data": [], "count": 0}
    assert_error(client.get("/v1/jobs", params={"kind": "nope"}), 422, "validation_error")
    assert manager.get(first).result is not None  # the job itself keeps its result


def test_the_jobs_kind_filter_offers_every_kind_the_runner_runs(client: TestClient) -> None:
    from api.job_kinds import JOB_KIND_NAMES

    parameters = client.get("/openapi.json").json()["paths"]["/v1/jobs"]["get"]["parameters"]
    kind = next(p for p in parameters if p["name"] == "kind")["schema"]
    offered = next(option["enum"] for option in kind["anyOf"] if "enum" in option)
    assert sorted(offered) == sorted(JOB_KIND_NAMES)
    message = client.get("/v1/jobs/" + "a" * 32).json()["error"]["message"]
    assert "POST /v1/forecasts/batch" in message and "Prefer: respond-async" in message
