"""Fixtures of the API tests: an app on a temporary SQLite store, fast models, no workers."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette asks for httpx2 in its test client; the test client itself works unchanged.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

WRITE_KEY = "write-key-0123456789"
READ_KEY = "read-key-0123456789"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings: temp SQLite, fits in the request thread, a fast default model, no scheduler.

    Fields not given here come from their defaults (or ``TRADECAST_*`` variables of the test
    run); no ``.env`` file is read, so a developer's ``.env`` cannot change the tests.
    """
    values: dict[str, Any] = {
        "env": "test",
        "database_url": f"sqlite:///{tmp_path / 'api.db'}",
        "fit_workers": 0,
        "default_model": "naive2",
        "log_json": False,
        "log_level": "WARNING",
        "job_lease_seconds": 1.0,
        "gc_freeze": False,
        "report_dir": tmp_path / "reports",
        "scheduler_enabled": False,
        # Ready at once: the warm-up fits are tested in test_service.py (readiness).
        "warm_up": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def annual(n: int = 20, start: int = 2000, base: float = 50.0, step: float = 3.0) -> list[dict[str, Any]]:
    """Inline annual observations ``[{ds, y}]`` with a gentle trend and wiggle."""
    return [{"ds": str(start + i), "y": base + step * i + (i % 3)} for i in range(n)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def stored(client: TestClient) -> str:
    """A stored annual series ``cn_ru`` (tags reporter=CN, partner=RU)."""
    body = {
        "series_id": "cn_ru",
        "name": "China-Russia turnover",
        "frequency": "annual",
        "unit": "USD bn",
        "tags": {"reporter": "CN", "partner": "RU"},
        "data": annual(),
    }
    response = client.post("/v1/series", json=body)
    assert response.status_code == 201, response.text
    return "cn_ru"


def assert_error(response: Any, status: int, code: str, contains: str | None = None) -> dict[str, Any]:
    """Check the envelope, status and code of an error response; return ``error``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if contains is not None:
        assert contains in error["message"], error["message"]
    return dict(error)


def wait_for_job(client: Any, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{job_id}`` until the job has finished (succeeded, partial or failed)."""
    import time

    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "partial", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")
