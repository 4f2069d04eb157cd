"""POST /v1/forecasts/batch and GET /v1/jobs/{id}, including recovery after a restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from api.main import create_app
from api.schemas import BatchForecastCreate
from data.tables import JobsTable
from tests.api.conftest import TestClient, annual, assert_error, make_settings


def _batch(n: int, **extra):
    series = [{"unique_id": f"u{i}", "data": annual(base=10.0 * (i + 1)), "frequency": "annual"} for i in range(n)]
    return {"series": series, "horizon": 2, "model": "drift", **extra}


def _wait(client, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "partial", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_small_batch_answers_directly_with_per_series_errors(client, stored):
    body = _batch(2)
    body["series"].append({"unique_id": "short", "data": annual(2), "frequency": "annual"})
    body["series"].append({"series_id": stored})
    response = client.post("/v1/forecasts/batch", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["count"] == 4 and result["failed"] == 1
    assert [item["status"] for item in result["data"]] == ["ok", "ok", "error", "ok"]
    assert result["data"][2]["error"]["code"] == "insufficient_data"
    assert result["data"][3]["unique_id"] == stored
    assert result["data"][3]["forecast"]["vintage"]["number"] == 1


def test_large_batch_becomes_a_job_that_succeeds(tmp_path):
    # Fits in a worker process: a job fits in a background thread while requests are served,
    # and in-thread fitting would race on the process-global warnings filters.
    settings = make_settings(tmp_path, batch_sync_limit=2, fit_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/forecasts/batch", json=_batch(3))
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["location"] == f"/v1/jobs/{job['id']}"
        assert job["status"] in ("queued", "running", "succeeded") and job["n_items"] == 3
        done = _wait(client, job["id"])
        assert done["status"] == "succeeded" and done["attempts"] == 1
        assert done["result"]["count"] == 3 and done["result"]["failed"] == 0
        first = done["result"]["data"][0]["forecast"]
        assert client.get(f"/v1/forecasts/{first['id']}").status_code == 200


def test_batch_above_limit_is_422(tmp_path):
    settings = make_settings(tmp_path, max_batch_series=2)
    with TestClient(create_app(settings)) as client:
        assert_error(client.post("/v1/forecasts/batch", json=_batch(3)), 422, "invalid_parameter", "at most 2")


def test_unknown_job_is_404(client):
    assert_error(client.get("/v1/jobs/" + "a" * 32), 404, "job_not_found")


def _insert_orphan(settings, job_id: str, attempts: int) -> None:
    """A job left 'running' by a server that stopped (its heartbeat is old)."""
    app = create_app(settings)
    with TestClient(app):
        engine = app.state.store.engine
        old = datetime.now(UTC) - timedelta(minutes=10)
        with engine.begin() as conn:
            conn.execute(
                insert(JobsTable).values(
                    id=job_id,
                    kind="forecast_batch",
                    status="running",
                    request=BatchForecastCreate.model_validate(_batch(2)).model_dump_json(),
                    n_items=2,
                    attempts=attempts,
                    owner="0" * 32,
                    created_at=old,
                    updated_at=old,
                    heartbeat_at=old,
                )
            )


def test_interrupted_job_is_run_again_after_restart(tmp_path):
    settings = make_settings(tmp_path, job_stale_seconds=1)
    _insert_orphan(settings, "b" * 32, attempts=1)
    with TestClient(create_app(settings)) as client:
        job = _wait(client, "b" * 32)
        assert job["status"] == "succeeded" and job["attempts"] == 2
        assert job["result"]["count"] == 2


def test_job_interrupted_too_often_is_reported_failed(tmp_path):
    settings = make_settings(tmp_path, job_stale_seconds=1, job_max_attempts=2)
    _insert_orphan(settings, "c" * 32, attempts=2)
    app = create_app(settings)
    with TestClient(app) as client:
        job = _wait(client, "c" * 32)
        assert job["status"] == "failed" and job["error"]["code"] == "job_interrupted"
        with app.state.store.engine.connect() as conn:
            owner = conn.execute(select(JobsTable.owner).where(JobsTable.id == "c" * 32)).scalar_one()
        assert owner == app.state.jobs.owner


def test_job_interrupted_by_shutdown_stays_active_for_recovery(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, batch_sync_limit=0)
    app = create_app(settings)
    with TestClient(app) as client:
        manager = app.state.jobs
        monkeypatch.setattr(manager, "_schedule", lambda job_id: None)  # run it by hand below
        job = client.post("/v1/forecasts/batch", json=_batch(1)).json()

        def pool_gone(*args, **kwargs):
            manager._stop.set()  # the server started stopping while the job ran
            raise RuntimeError("cannot schedule new futures after shutdown")

        monkeypatch.setattr(app.state.service, "forecast_batch", pool_gone)
        manager._run(job["id"])
        manager._stop.clear()
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"


# Two fitting processes, one killed (15-30 s). In the fast suite: the executor's own tests of a
# killed worker (tests/forecasting/test_executor.py: its task fails, the pool is replaced).
@pytest.mark.slow
def test_batch_and_job_succeed_after_a_fitting_worker_is_killed(tmp_path):
    import os
    import signal

    settings = make_settings(tmp_path, batch_sync_limit=2, fit_workers=2)
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/forecasts/batch", json=_batch(2)).status_code == 200
        executor = client.app.state.service.executor
        pids = list(executor._pool._processes)
        assert pids
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while executor._pool is not None and not executor._pool._broken and time.monotonic() < deadline:
            time.sleep(0.05)  # the pool notices the death on its own management thread
        batch = client.post("/v1/forecasts/batch", json=_batch(2, horizon=3))
        assert batch.status_code == 200, batch.text
        assert batch.json()["failed"] == 0
        response = client.post("/v1/forecasts/batch", json=_batch(3, horizon=4))
        assert response.status_code == 202, response.text
        done = _wait(client, response.json()["id"])
        assert done["status"] == "succeeded" and done["result"]["failed"] == 0
        assert executor.restarts == 1
        assert pids[0] not in executor._pool._processes
