"""The API on PostgreSQL (only when ``TRADECAST_TEST_POSTGRES_URL`` is set), in its own schema."""

from __future__ import annotations

import os
import secrets
import time
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine

from api.main import create_app
from tests.api.conftest import TestClient, annual, make_settings

PG_URL = os.environ.get("TRADECAST_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="TRADECAST_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def pg_url():
    assert PG_URL is not None
    schema = f"tc_api_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_series_forecast_and_job_on_postgres(tmp_path, pg_url):
    settings = make_settings(tmp_path, database_url=pg_url, batch_sync_limit=1, fit_workers=1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/ready").status_code == 200
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
