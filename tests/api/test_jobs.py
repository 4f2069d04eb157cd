"""POST /v1/forecasts/batch and GET /v1/jobs/{id}, including recovery after a restart."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from api.main import create_app
from api.schemas import BatchForecastCreate
from data.tables import JobsTable
from tests.api.conftest import TestClient, annual, assert_error, make_settings, wait_for_job


def _batch(n: int, **extra):
    series = [{"unique_id": f"u{i}", "data": annual(base=10.0 * (i + 1)), "frequency": "annual"} for i in range(n)]
    return {"series": series, "horizon": 2, "model": "drift", **extra}


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
        done = wait_for_job(client, job["id"])
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
    """A job left 'running' by a server that stopped (its lease ended long ago)."""
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
                    lease_until=old,
                )
            )


def test_interrupted_job_is_run_again_after_restart(tmp_path):
    settings = make_settings(tmp_path, job_lease_seconds=1)
    _insert_orphan(settings, "b" * 32, attempts=1)
    with TestClient(create_app(settings)) as client:
        job = wait_for_job(client, "b" * 32)
        assert job["status"] == "succeeded" and job["attempts"] == 2
        assert job["result"]["count"] == 2


def test_job_interrupted_too_often_is_reported_failed(tmp_path):
    settings = make_settings(tmp_path, job_lease_seconds=1, job_max_attempts=2)
    _insert_orphan(settings, "c" * 32, attempts=2)
    app = create_app(settings)
    with TestClient(app) as client:
        job = wait_for_job(client, "c" * 32)
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
        done = wait_for_job(client, response.json()["id"])
        assert done["status"] == "succeeded" and done["result"]["failed"] == 0
        assert executor.restarts == 1
        assert pids[0] not in executor._pool._processes


def _slow_fits(monkeypatch):
    """Make every fit wait for the test (a slow model): returns the semaphore that lets one fit end."""
    import threading

    import api.service.forecasts as forecasts

    released = threading.Semaphore(0)
    real = forecasts.fit_plan

    def slow(*args, **kwargs):
        assert released.acquire(timeout=20), "the test never let this fit end"
        return real(*args, **kwargs)

    monkeypatch.setattr(forecasts, "fit_plan", slow)
    return released


def _wait_for(client, job_id: str, check, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if check(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_running_job_shows_items_done_total_and_time_left(tmp_path, monkeypatch):
    released = _slow_fits(monkeypatch)
    settings = make_settings(tmp_path, batch_sync_limit=0)
    with TestClient(create_app(settings)) as client:
        job = client.post("/v1/forecasts/batch", json=_batch(4)).json()
        for _ in range(2):
            released.release()
        running = _wait_for(client, job["id"], lambda j: (j["progress"] or {}).get("n_done") == 2)
        progress = running["progress"]
        assert running["status"] == "running" and running["result"] is None
        assert progress["n_total"] == 4 and progress["n_failed"] == 0 and progress["failures"] == []
        assert progress["eta_seconds"] is not None and progress["eta_seconds"] >= 0
        assert progress["started_at"] >= job["created_at"]
        for _ in range(2):
            released.release()
        done = wait_for_job(client, job["id"])
        assert done["status"] == "succeeded"
        assert done["progress"]["n_done"] == 4 and done["progress"]["eta_seconds"] == 0


def test_job_with_failed_items_is_partial_and_lists_them_while_running(tmp_path, monkeypatch):
    released = _slow_fits(monkeypatch)
    settings = make_settings(tmp_path, batch_sync_limit=0)
    with TestClient(create_app(settings)) as client:
        body = _batch(2)
        body["series"].insert(0, {"unique_id": "short", "data": annual(2), "frequency": "annual"})
        job = client.post("/v1/forecasts/batch", json=body).json()
        # The short series fails when it is read, before any fit: counted at once.
        running = _wait_for(client, job["id"], lambda j: (j["progress"] or {}).get("n_failed") == 1)
        assert running["status"] == "running" and running["progress"]["n_done"] == 1
        assert running["progress"]["failures"][0]["item"] == "short"
        assert running["progress"]["failures"][0]["code"] == "insufficient_data"
        for _ in range(2):
            released.release()
        done = wait_for_job(client, job["id"])
        assert done["status"] == "partial" and done["result"]["failed"] == 1
        assert done["progress"]["n_done"] == 3 and done["progress"]["n_failed"] == 1


def _losing_submit(monkeypatch, executor, lose: set[int]):
    """Fake a worker process dying under the submissions numbered in ``lose`` (1-based)."""
    from concurrent.futures import Future

    from forecasting.exceptions import WorkerLostError
    from forecasting.executor import TaskResult

    real = executor.submit
    calls = []

    def submit(fn, *args, **kwargs):
        calls.append(fn)
        if len(calls) in lose:
            lost = Future()
            lost.set_result(TaskResult(error=WorkerLostError("a worker process died while running this task.")))
            return lost
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(executor, "submit", submit)
    return calls


def test_items_lost_with_their_worker_are_run_again_and_the_job_succeeds(tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path, batch_sync_limit=0))
    with TestClient(app) as client:
        calls = _losing_submit(monkeypatch, app.state.service.executor, lose={1, 2, 3})
        job = client.post("/v1/forecasts/batch", json=_batch(4)).json()
        done = wait_for_job(client, job["id"])
        assert len(calls) == 7  # 4 fits, the 3 lost ones once more
        assert done["status"] == "succeeded" and done["result"]["failed"] == 0
        assert done["progress"]["n_retried"] == 3 and done["progress"]["n_done"] == 4


def test_item_lost_twice_fails_and_the_job_is_partial_not_succeeded(tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path, batch_sync_limit=0))
    with TestClient(app) as client:
        # u0 is submitted first (call 1) and, lost, again after the other two (call 4).
        calls = _losing_submit(monkeypatch, app.state.service.executor, lose={1, 4})
        job = client.post("/v1/forecasts/batch", json=_batch(3)).json()
        done = wait_for_job(client, job["id"])
        assert len(calls) == 4
        assert done["status"] == "partial" and done["result"]["failed"] == 1
        assert [item["status"] for item in done["result"]["data"]] == ["error", "ok", "ok"]
        assert done["result"]["data"][0]["error"]["code"] == "worker_lost"
        assert done["progress"]["failures"] == [
            {"item": "u0", "code": "worker_lost", "message": "a worker process died while running this task."}
        ]


def test_items_lost_with_their_worker_in_a_synchronous_batch_are_run_again(tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path, batch_sync_limit=10))
    with TestClient(app) as client:
        calls = _losing_submit(monkeypatch, app.state.service.executor, lose={1, 2})
        response = client.post("/v1/forecasts/batch", json=_batch(3))
        assert response.status_code == 200, response.text
        assert len(calls) == 5  # 3 fits, the 2 lost ones once more
        assert response.json()["failed"] == 0
        assert [item["status"] for item in response.json()["data"]] == ["ok", "ok", "ok"]
        assert app.state.service.gate.pending == 0  # every slot given back


def test_item_lost_twice_in_a_synchronous_batch_is_an_error_item(tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path, batch_sync_limit=10))
    with TestClient(app) as client:
        # u0 is submitted first (call 1) and, lost, again once the three first fits ended (call 4).
        calls = _losing_submit(monkeypatch, app.state.service.executor, lose={1, 4})
        result = client.post("/v1/forecasts/batch", json=_batch(3)).json()
        assert len(calls) == 4
        assert [item["status"] for item in result["data"]] == ["error", "ok", "ok"]
        assert result["failed"] == 1 and result["data"][0]["error"]["code"] == "worker_lost"
        assert app.state.service.gate.pending == 0


def _die(*args, **kwargs) -> None:
    os._exit(1)  # a fitting worker killed mid-fit (as by the out-of-memory killer)


def test_a_worker_killed_under_a_synchronous_batch_has_its_items_run_again(tmp_path, monkeypatch):
    # A real process pool: the first fit kills its worker, which breaks the pool under every item
    # queued on it; they come back worker_lost and are run once more on a new pool.
    app = create_app(make_settings(tmp_path, batch_sync_limit=10, fit_workers=1))
    with TestClient(app) as client:
        executor = app.state.service.executor
        real = executor.submit
        calls = []

        def submit(fn, *args, **kwargs):
            calls.append(fn)
            return real(_die) if len(calls) == 1 else real(fn, *args, **kwargs)

        monkeypatch.setattr(executor, "submit", submit)
        response = client.post("/v1/forecasts/batch", json=_batch(3))
        assert response.status_code == 200, response.text
        assert response.json()["failed"] == 0, response.json()
        assert executor.restarts >= 1
        assert len(calls) > 3  # the lost items were submitted once more


# Two fitting processes, one killed mid-job (20-60 s on a busy machine).
@pytest.mark.slow
def test_items_of_a_worker_killed_mid_job_are_run_again_and_the_job_succeeds(tmp_path):
    import os
    import signal

    settings = make_settings(tmp_path, batch_sync_limit=0, fit_workers=2, max_batch_series=100)
    with TestClient(create_app(settings)) as client:
        executor = client.app.state.service.executor
        job = client.post("/v1/forecasts/batch", json=_batch(30, model="auto")).json()
        running = _wait_for(client, job["id"], lambda j: (j["progress"] or {}).get("n_done", 0) >= 1, timeout=120)
        assert running["status"] == "running", running
        os.kill(next(iter(executor._pool._processes)), signal.SIGKILL)
        done = wait_for_job(client, job["id"], timeout=300)
        assert executor.restarts >= 1
        assert done["progress"]["n_retried"] >= 1, done["progress"]
        assert done["status"] == "succeeded" and done["result"]["failed"] == 0, done["progress"]
        assert done["progress"]["n_done"] == 30
