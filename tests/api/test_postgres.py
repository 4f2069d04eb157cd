"""The API on PostgreSQL (only when ``TRADECAST_TEST_POSTGRES_URL`` is set), in its own schema."""

from __future__ import annotations

import os
import time

import pytest

from api.main import create_app
from tests.api.conftest import TestClient, annual, make_settings
from tests.postgres import schema_url, temporary_schema

PG_URL = os.environ.get("TRADECAST_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="TRADECAST_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def pg_url():
    assert PG_URL is not None
    with temporary_schema(PG_URL, "tc_api") as schema:
        yield schema_url(PG_URL, schema)


def test_series_forecast_and_job_on_postgres(tmp_path, pg_url):
    settings = make_settings(tmp_path, database_url=pg_url, batch_sync_limit=1, fit_workers=1)
    with TestClient(create_app(settings)) as client:
        # The fit worker process imports the models before the service says it is ready.
        ready_by = time.monotonic() + 120
        while (ready := client.get("/ready")).status_code == 503 and time.monotonic() < ready_by:
            time.sleep(0.2)
        assert ready.status_code == 200, ready.json()
        body = {"series_id": "pg", "frequency": "annual", "data": annual()}
        assert client.post("/v1/series", json=body).status_code == 201
        forecast = client.post("/v1/forecasts", json={"series_id": "pg", "horizon": 2}).json()
        assert client.get(f"/v1/forecasts/{forecast['id']}").json()["forecast"] == forecast["forecast"]
        batch = {"series": [{"series_id": "pg"}, {"data": annual(5), "frequency": "annual"}], "horizon": 2}
        job = client.post("/v1/forecasts/batch", json=batch).json()
        deadline = time.monotonic() + 20
        while (state := client.get(f"/v1/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert state["status"] == "succeeded" and state["result"]["count"] == 2
