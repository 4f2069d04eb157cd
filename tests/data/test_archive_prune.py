"""Forecast archive retention: ``ForecastArchive.prune_forecasts`` and ``tradecast prune``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from data import ForecastRecord, IngestError, Store
from data import archive as archive_module

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _save(store: Store, days_old: float, now: datetime = NOW) -> str:
    frame = pd.DataFrame({"mean": [1.0, 2.0]}, index=pd.period_range("2026-01", periods=2, freq="M", name="ds"))
    record = ForecastRecord(None, None, "naive", {}, 2, (), frame, created_at=now - timedelta(days=days_old))
    return store.archive.save_forecast(record)


def test_prune_deletes_only_forecasts_older_than_the_age(store: Store) -> None:
    old = [_save(store, days) for days in (31, 45, 400)]
    kept = [_save(store, days) for days in (0, 10, 29.9)]
    assert store.archive.prune_forecasts(timedelta(days=30), now=NOW, dry_run=True) == 3
    assert store.archive.count_forecasts() == 6  # a dry run deletes nothing
    assert store.archive.prune_forecasts(timedelta(days=30), now=NOW) == 3
    assert sorted(r.forecast_id for r in store.archive.list_forecasts()) == sorted(kept)
    for forecast_id in old:
        with pytest.raises(LookupError):
            store.archive.get_forecast(forecast_id)
    assert store.archive.prune_forecasts(timedelta(days=30), now=NOW) == 0


def test_prune_deletes_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "PRUNE_BATCH_SIZE", 2)
    for days in range(40, 47):
        _save(store, days)
    assert store.archive.prune_forecasts(timedelta(days=30), now=NOW) == 7
    assert store.archive.count_forecasts() == 0


@pytest.mark.parametrize("older_than", [timedelta(0), timedelta(seconds=-5), 30])
def test_prune_refuses_an_age_below_one_second(store: Store, older_than: object) -> None:
    with pytest.raises(IngestError, match="older_than"):
        store.archive.prune_forecasts(older_than)  # type: ignore[arg-type]


@pytest.fixture
def cli_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRADECAST_DATABASE_URL", url)
    store = Store.from_url(url)
    store.create_schema()
    now = datetime.now(UTC)
    for days in (2, 8, 100):
        _save(store, days, now)
    yield store
    store.dispose()


def test_cli_prune_older_than_days(cli_store: Store) -> None:
    runner = CliRunner()
    dry = runner.invoke(app, ["prune", "--older-than", "7", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 2 archived forecast(s) older than 7 day(s)" in dry.output
    assert cli_store.archive.count_forecasts() == 3
    done = runner.invoke(app, ["prune", "--older-than", "7"])
    assert done.exit_code == 0 and "deleted 2 archived forecast(s)" in done.output
    assert cli_store.archive.count_forecasts() == 1


def test_cli_prune_defaults_to_the_retention_setting(cli_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, ["prune"])
    assert refused.exit_code == 2 and "TRADECAST_FORECAST_RETENTION_DAYS" in refused.output
    assert runner.invoke(app, ["prune", "--older-than", "0"]).exit_code == 2
    monkeypatch.setenv("TRADECAST_FORECAST_RETENTION_DAYS", "30")
    done = runner.invoke(app, ["prune"])
    assert done.exit_code == 0 and "deleted 1 archived forecast(s) older than 30 day(s)" in done.output
    assert cli_store.archive.count_forecasts() == 2
