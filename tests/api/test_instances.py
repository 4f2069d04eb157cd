"""Two ``tradecast serve`` processes on one PostgreSQL database (as behind a load balancer).

Only when ``TRADECAST_TEST_POSTGRES_URL`` is set; each test works in its own schema. Checks:
every scheduled report slot runs exactly once across both instances; a batch job is run by
the instance that took it, and by the other one after that instance is SIGKILLed; a vintage
stored through one instance is what the other forecasts (its cache key holds the vintage).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import annual
from tests.api.servers import free_port
from tests.postgres import schema_url, temporary_schema

PG_URL = os.environ.get("TRADECAST_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="TRADECAST_TEST_POSTGRES_URL is not set"),
]

VINTAGE_TTL = 0.5


@pytest.fixture
def pg_url() -> Iterator[str]:
    assert PG_URL is not None
    with temporary_schema(PG_URL, "tc_inst") as schema:
        yield schema_url(PG_URL, schema)


class Instance:
    """One ``tradecast serve`` subprocess."""

    def __init__(self, name: str, url: str, tmp_path: Path, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        folder = tmp_path / name
        folder.mkdir()
        full_env = {
            **os.environ,
            "TRADECAST_DATABASE_URL": url,
            "TRADECAST_DEFAULT_MODEL": "naive2",
            "TRADECAST_FIT_WORKERS": "0",
            "TRADECAST_LOG_LEVEL": "WARNING",
            "TRADECAST_REPORT_DIR": str(folder / "reports"),
            "TRADECAST_VINTAGE_TTL_SECONDS": str(VINTAGE_TTL),
            "TRADECAST_JOB_HEARTBEAT_SECONDS": "0.5",
            "TRADECAST_JOB_STALE_SECONDS": "3",
            "TRADECAST_SCHEDULER_REFRESH_SECONDS": "1",
            "TRADECAST_WARM_UP": "0",
            **env,
        }
        full_env.pop("TRADECAST_API_KEYS", None)
        self.log = open(folder / "server.log", "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(self.port)],
            env=full_env,
            cwd=folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"{self.name} exited early"
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{self.name} did not start within {timeout} s"
            time.sleep(0.2)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def instances(pg_url: str, tmp_path: Path) -> Iterator[Any]:
    started: list[Instance] = []

    def start(name: str, **env: str) -> Instance:
        instance = Instance(name, pg_url, tmp_path, **env)
        started.append(instance)
        return instance

    try:
        yield start
    finally:
        for instance in started:
            instance.stop()


def _start_pair(start: Any, **env: str) -> tuple[Instance, Instance]:
    # Both at once on an empty schema, as behind a load balancer: one migrates, one waits.
    a, b = start("a", **env), start("b", **env)
    a.wait_ready()
    b.wait_ready()
    return a, b


# Two real servers (20-40 s). In the fast suite: tests/reports/test_scheduler.py's
# exactly-once test with two schedulers on one store.
@pytest.mark.slow
def test_each_scheduled_report_slot_runs_exactly_once_across_two_instances(instances):
    # Per-second schedules are for tests only: a test service turns them on.
    a, b = _start_pair(instances, TRADECAST_SCHEDULER_ENABLED="1", TRADECAST_ENV="test", TRADECAST_SCHEDULE_SECONDS="1")
    with a.client() as ca, b.client() as cb:
        series = {"series_id": "s", "frequency": "annual", "data": annual()}
        assert ca.post("/v1/series", json=series).status_code == 201
        definition = {"name": "every-2s", "series_ids": ["s"], "horizon": 2, "model": "naive"}
        definition["schedule"] = "*/2 * * * * *"  # every two seconds
        assert cb.post("/v1/reports", json=definition).status_code == 201, "definition refused"
        time.sleep(12)
        runs = ca.get("/v1/reports/every-2s/runs", params={"limit": 100}).json()["data"]
    slots = [r["as_of"] for r in runs if r["trigger"] == "schedule"]
    assert len(slots) >= 3, runs  # both schedulers saw the definition and fired
    assert len(slots) == len(set(slots)), f"a slot ran twice: {sorted(slots)}"
    statuses = [r["status"] for r in runs]
    # The latest fire may still be running when listed; none failed.
    assert "failed" not in statuses and statuses.count("succeeded") >= 2, statuses


def _batch(n: int) -> dict[str, Any]:
    series = [{"data": annual(40, base=50.0 + i), "frequency": "annual"} for i in range(n)]
    return {"series": series, "horizon": 3, "model": "auto"}


def _wait_job(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (state := client.get(f"/v1/jobs/{job_id}").json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return dict(state)


# Two real servers, one killed (30-40 s). In the fast suite: test_jobs.py's interrupted job
# run again after a restart (the same recovery path, in one process).
@pytest.mark.slow
def test_a_batch_job_runs_once_and_is_taken_over_when_its_instance_is_killed(instances):
    a, b = _start_pair(instances, TRADECAST_BATCH_SYNC_LIMIT="1")
    with a.client() as ca, b.client() as cb:
        quick = ca.post("/v1/forecasts/batch", json={**_batch(2), "model": "naive"}).json()
        assert _wait_job(cb, quick["id"])["attempts"] == 1  # run by a alone, seen through b

        job = ca.post("/v1/forecasts/batch", json=_batch(60)).json()
        deadline = time.monotonic() + 60
        while cb.get(f"/v1/jobs/{job['id']}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait()
        done = _wait_job(cb, job["id"])
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2  # a's interrupted attempt, then b's
    assert done["result"]["count"] == 60 and done["result"]["failed"] == 0


def test_a_vintage_stored_through_one_instance_is_what_the_other_forecasts(instances):
    a, b = _start_pair(instances)
    with a.client() as ca, b.client() as cb:
        series = {"series_id": "v", "frequency": "annual", "data": annual()}
        assert ca.post("/v1/series", json=series).status_code == 201
        first = cb.post("/v1/forecasts", json={"series_id": "v", "horizon": 2})
        again = cb.post("/v1/forecasts", json={"series_id": "v", "horizon": 2})
        assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
        revised = annual(base=500.0)
        assert ca.post("/v1/series", json={"series_id": "v", "frequency": "annual", "data": revised}).status_code == 201
        time.sleep(VINTAGE_TTL + 0.3)  # b remembers the vintage list this long at most
        after = cb.post("/v1/forecasts", json={"series_id": "v", "horizon": 2})
    assert after.headers["x-cache"] == "miss"
    assert after.json()["vintage"]["vintage_id"] != first.json()["vintage"]["vintage_id"]
    # the revised data sit about 450 higher: the forecast follows them
    assert after.json()["forecast"][0]["mean"] > first.json()["forecast"][0]["mean"] + 400
