"""Issue 35 against a server started as a user starts it (``tradecast serve`` in a subprocess)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import annual
from tests.api.servers import start_server
from tests.reports.delivery_servers import WEBHOOK_SECRET


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"TRADECAST_DEFAULT_MODEL": "naive2", "TRADECAST_WEBHOOK_SECRET": WEBHOOK_SECRET}
    url, proc = start_server(Path(tmp_path_factory.mktemp("security")), env)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            body = {"series_id": "cn_ru", "frequency": "annual", "data": annual()}
            assert client.post("/v1/series", json=body).status_code == 201
        yield url
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://127.0.0.1:8000/v1/series", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://[::1]:8000/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://017700000001/", "loopback"),
        ("http://metadata.google.internal/computeMetadata/v1/", "internal_name"),
    ],
)
def test_served_report_with_internal_webhook_is_422(base: str, url: str, rule: str) -> None:
    definition = {"name": "cn-ru", "series_ids": ["cn_ru"], "model": "naive", "delivery": {"webhook_url": url}}
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post("/v1/reports", json=definition)
        assert client.get("/v1/reports/cn-ru").status_code == 404  # nothing stored
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "webhook_address_refused" and error["details"]["rule"] == rule


def test_served_wide_row_upload_is_refused_fast_and_the_service_answers(base: str) -> None:
    data = b"ds,y\n2020,1" + b"," * 79_998 + b"\n2021,2\n"
    with httpx.Client(base_url=base, timeout=30) as client:
        started = time.perf_counter()
        responses = [
            client.post("/v1/series", files={"file": ("wide.csv", data)}, data={"series_id": "w"}) for _ in range(3)
        ]
        took = (time.perf_counter() - started) / 3
        health = client.get("/health")
    for response in responses:
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["line"] == 2
    assert took < 1.0, took  # was 14-17 s per upload, holding an upload slot
    assert health.status_code == 200


def test_served_listing_with_a_never_firing_day_is_fast(base: str) -> None:
    definition = {"name": "feb", "series_ids": ["cn_ru"], "model": "naive", "schedule": "0 0 30 2 1"}
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/v1/reports", json=definition).status_code == 201
        started = time.perf_counter()
        listed = client.get("/v1/reports")
        took = time.perf_counter() - started
        six = client.post("/v1/reports", json={**definition, "name": "six", "schedule": "* * * * * *"})
    assert listed.status_code == 200 and took < 0.5, took
    assert six.status_code == 422 and "5 fields" in six.json()["error"]["message"]
