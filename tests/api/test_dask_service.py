"""The service on a Dask cluster: TRADECAST_DASK_SCHEDULER sends fits and batch jobs there."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from api.main import create_app, fit_executor
from forecasting.executor import DaskExecutor, InProcessExecutor, ProcessExecutor
from tests.api.conftest import TestClient, annual, make_settings

distributed = pytest.importorskip("distributed")


def test_fit_executor_follows_the_dask_scheduler_setting() -> None:
    executor = fit_executor(2, "tcp://10.0.0.5:8786")
    assert isinstance(executor, DaskExecutor) and executor.scheduler == "tcp://10.0.0.5:8786"
    assert executor._client is None  # nothing connects before the service starts
    assert isinstance(fit_executor(0, None), InProcessExecutor)
    assert isinstance(fit_executor(2, None), ProcessExecutor)


def test_an_empty_scheduler_setting_means_local_processes(tmp_path: Path) -> None:
    assert make_settings(tmp_path, dask_scheduler="  ").executor.dask_scheduler is None
    settings = make_settings(tmp_path, dask_scheduler="tcp://h:8786")
    assert settings.executor.dask_scheduler == "tcp://h:8786"
    assert settings.reports.dask_scheduler == "tcp://h:8786"


def test_forecasts_and_batch_jobs_run_on_the_configured_scheduler(tmp_path: Path) -> None:
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        settings = make_settings(tmp_path, dask_scheduler=cluster.scheduler_address, fit_workers=1, batch_sync_limit=1)
        app = create_app(settings)
        with TestClient(app) as client, distributed.Client(cluster, set_as_default=False) as observer:
            with distributed.get_task_stream(observer) as stream:
                single = client.post("/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": 2})
                batch = {"series": [{"data": annual(12 + i), "frequency": "annual"} for i in range(3)], "horizon": 2}
                job = client.post("/v1/forecasts/batch", json=batch).json()
                deadline = time.monotonic() + 60
                while (state := client.get(f"/v1/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            executor = app.state.service.executor
            assert isinstance(executor, DaskExecutor)
            assert executor.client.scheduler.address == cluster.scheduler_address
        assert single.status_code == 200, single.text
        assert state["status"] == "succeeded" and state["result"]["count"] == 3
        ran = [t for t in stream.data if t["key"].startswith("_run_task")]
        assert len(ran) >= 4  # the forecast and the three series of the job ran on the cluster


def test_report_runs_fan_out_on_the_scheduler_when_one_is_set() -> None:
    from forecasting.executor import get_executor
    from reports.options import ReportOptions

    with ReportOptions(dask_scheduler="tcp://h:8786").backend():
        inside = get_executor(1, n_tasks=5, spawn=True)
    assert isinstance(inside, DaskExecutor) and inside.scheduler == "tcp://h:8786"
    with ReportOptions().backend():
        assert isinstance(get_executor(1, n_tasks=5, spawn=True), InProcessExecutor)
    assert isinstance(get_executor(1), InProcessExecutor)  # the block's choice does not leak
