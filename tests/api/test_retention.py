"""TRADECAST_FORECAST_RETENTION_DAYS: the service prunes the forecast archive in the background."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from api.main import create_app
from api.retention import ArchivePruner
from data import ForecastRecord, Store
from tests.api.conftest import TestClient, annual, make_settings


def _seed(url: str, days_old: list[float]) -> list[str]:
    store = Store.from_url(url)
    store.create_schema()
    frame = pd.DataFrame({"mean": [1.0]}, index=pd.period_range("2026", periods=1, freq="Y", name="ds"))
    now = datetime.now(UTC)
    try:
        return [
            store.archive.save_forecast(
                ForecastRecord(None, None, "naive", {}, 1, (), frame, created_at=now - timedelta(days=days))
            )
            for days in days_old
        ]
    finally:
        store.dispose()


def test_service_prunes_forecasts_older_than_the_retention_at_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, forecast_retention_days=30)
    old, recent = _seed(settings.database_url, [31, 5])
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while client.get(f"/v1/forecasts/{old}").status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get(f"/v1/forecasts/{old}").status_code == 404
        assert client.get(f"/v1/forecasts/{recent}").status_code == 200
        made = client.post("/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": 1}).json()
        assert client.get(f"/v1/forecasts/{made['id']}").status_code == 200


def test_retention_zero_keeps_every_forecast(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.store.forecast_retention_days == 0
    (old,) = _seed(settings.database_url, [4000])
    with TestClient(create_app(settings)) as client:
        time.sleep(0.2)
        assert client.get(f"/v1/forecasts/{old}").status_code == 200


def test_pruner_survives_a_failing_prune(tmp_path: Path) -> None:
    class Broken:
        def prune_forecasts(self, older_than: timedelta) -> int:
            raise OSError("database is down")

        @property
        def archive(self) -> Broken:
            return self

    pruner = ArchivePruner(Broken(), days=1, interval=0.01)  # type: ignore[arg-type]
    assert pruner.prune_once() == 0
    pruner.start()
    time.sleep(0.05)
    pruner.stop()
    assert pruner._thread is not None and not pruner._thread.is_alive()
