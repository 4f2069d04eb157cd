"""The pieces behind the ``Store`` facade: the database helpers, the codec and the job rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from data import Store
from data.codec import as_utc, checksum, frame_from_json, frame_to_json, json_default
from data.db import DEFAULT_BUSY_TIMEOUT_MS, Database
from data.jobs_repo import JobsRepository
from data.tables import JobsTable


def test_store_repositories_share_one_database(sqlite_store: Store):
    assert sqlite_store.series.db is sqlite_store.db
    assert sqlite_store.archive.db is sqlite_store.db and sqlite_store.jobs.db is sqlite_store.db
    assert sqlite_store.engine is sqlite_store.db.engine
    assert sqlite_store.db.busy_timeout_ms == DEFAULT_BUSY_TIMEOUT_MS


def test_from_url_passes_the_busy_timeout_to_sqlite(tmp_path):
    store = Store.from_url(f"sqlite:///{tmp_path / 'busy.db'}", busy_timeout_ms=1234)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 1234
        assert store.db.busy_timeout_ms == 1234
    finally:
        store.dispose()


def test_store_has_no_settings_constructor():
    assert not hasattr(Store, "from_settings")
    import data

    assert not hasattr(data, "StorageSettings") and not hasattr(data, "get_settings")


@pytest.mark.parametrize(
    "index",
    [
        pd.period_range("2024-01", periods=3, freq="M", name="ds"),
        pd.date_range("2024-01-01", periods=3, freq="MS", name="ds"),
        pd.Index(["a", "b", "c"], name="ds"),
    ],
    ids=["period", "datetime", "other"],
)
def test_frame_codec_round_trips_index_values_and_attrs(index):
    frame = pd.DataFrame({"mean": [1.0, np.nan, 3.5], "lo_80": [0.5, 1.0, 2.0]}, index=index)
    frame.attrs = {"model": "ets", "skipped": object()}
    back = frame_from_json(frame_to_json(frame))
    pd.testing.assert_frame_equal(back, frame, check_freq=True)
    assert back.attrs == {"model": "ets"}


def test_checksum_ignores_the_sign_of_zero_but_not_the_frequency():
    ordinals = np.array([1, 2], dtype=np.int64)
    assert checksum("monthly", ordinals, np.array([0.0, 1.0])) == checksum("monthly", ordinals, np.array([-0.0, 1.0]))
    assert checksum("monthly", ordinals, np.array([0.0, 1.0])) != checksum("quarterly", ordinals, np.array([0.0, 1.0]))


def test_json_default_and_as_utc():
    assert json_default(np.int64(3)) == 3 and json_default((1, 2)) == [1, 2]
    with pytest.raises(TypeError, match="object is not JSON-serialisable"):
        json_default(object())
    assert as_utc(datetime(2024, 1, 1)) == datetime(2024, 1, 1, tzinfo=UTC)


def test_database_write_rolls_back_on_error(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'db.db'}")
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError), db.write() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
    finally:
        db.dispose()


@pytest.fixture
def jobs(sqlite_store: Store) -> JobsRepository:
    return sqlite_store.jobs


def test_job_rows_insert_get_and_update_only_by_their_owner(jobs: JobsRepository):
    jobs.insert(
        "a" * 32, kind="forecast_batch", request='{"x": 1}', n_items=3, owner="me", lease_until=datetime.now(UTC)
    )
    job = jobs.get("a" * 32)
    assert job is not None and (job.status, job.attempts, job.n_items, job.owner) == ("queued", 0, 3, "me")
    assert job.created_at.tzinfo is not None and job.result is None
    assert jobs.get("b" * 32) is None
    assert not jobs.update("a" * 32, owner="someone-else", status="running")
    assert jobs.update("a" * 32, owner="me", status="running", attempts=1)
    job = jobs.get("a" * 32)
    assert job is not None and (job.status, job.attempts) == ("running", 1)


def test_expired_jobs_are_claimed_by_one_instance_only(jobs: JobsRepository, sqlite_store: Store):
    soon = datetime.now(UTC) + timedelta(seconds=30)
    jobs.insert("a" * 32, kind="forecast_batch", request="{}", n_items=1, owner="dead", lease_until=soon)
    jobs.insert("b" * 32, kind="forecast_batch", request="{}", n_items=1, owner="alive", lease_until=soon)
    old = datetime.now(UTC) - timedelta(minutes=10)
    with sqlite_store.engine.begin() as conn:  # "dead" stopped renewing: its lease ended ten minutes ago
        conn.execute(update(JobsTable).where(JobsTable.id == "a" * 32).values(lease_until=old))
    assert jobs.renew("alive", datetime.now(UTC) + timedelta(minutes=1)) == 1
    expired = jobs.list_expired()
    assert [job.job_id for job in expired] == ["a" * 32] and expired[0].lease_until == old
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert jobs.claim(expired[0], "first", later, status="queued")
    assert not jobs.claim(expired[0], "second", later, status="queued")  # its lease changed under it
    job = jobs.get("a" * 32)
    assert job is not None and job.owner == "first" and job.lease_until > datetime.now(UTC)
    assert jobs.list_expired() == []
    # Ten minutes on, both leases have ended unless renewed.
    assert {j.job_id for j in jobs.list_expired(datetime.now(UTC) + timedelta(minutes=10))} == {"a" * 32, "b" * 32}
