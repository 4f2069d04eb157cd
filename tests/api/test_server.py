"""A real server: ``tradecast serve`` (uvicorn) in a subprocess, httpx requests, clean shutdown."""

from __future__ import annotations

import signal

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from tests.api.conftest import annual
from tests.api.servers import start_server


@pytest.fixture
def server(tmp_path):
    # TRADECAST_FIT_WORKERS=1: exercise the process pool
    base, proc = start_server(tmp_path, {"TRADECAST_DEFAULT_MODEL": "naive2", "TRADECAST_FIT_WORKERS": "1"})
    yield base, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_real_server_round_trip_and_clean_shutdown(server):
    base, proc = server
    with httpx.Client(base_url=base, timeout=60) as client:
        created = client.post("/v1/series", json={"series_id": "s", "frequency": "annual", "data": annual()})
        assert created.status_code == 201, created.text
        first = client.post("/v1/forecasts", json={"series_id": "s", "horizon": 3})
        assert first.status_code == 200, first.text
        assert first.headers["x-cache"] == "miss" and first.headers["x-request-id"]
        second = client.post("/v1/forecasts", json={"series_id": "s", "horizon": 3})
        assert second.headers["x-cache"] == "hit" and second.json()["id"] == first.json()["id"]
        assert client.get(f"/v1/forecasts/{first.json()['id']}").status_code == 200
        assert client.get("/ready").json()["status"] == "ready"
        bad = client.post("/v1/forecasts", json={"series_id": "s", "horizon": 0})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "serving on http://127.0.0.1:" in out


def test_serve_refuses_public_bind_without_keys(monkeypatch):
    from api.settings import get_settings

    monkeypatch.delenv("TRADECAST_API_KEYS", raising=False)
    monkeypatch.delenv("TRADECAST_ALLOW_OPEN", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to bind 0.0.0.0" in result.output
