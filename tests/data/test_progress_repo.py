"""The one progress record of every kind of job (``job_progress``)."""

from __future__ import annotations

from datetime import timedelta

from data import Store
from data.progress_repo import (
    FORECAST_BATCH,
    MAX_FAILURES,
    REPORT_RUN,
    ItemFailure,
    ProgressTracker,
)
from tests.data.conftest import Target
from tests.postgres import schema_url


def test_progress_counts_items_failures_retries_and_added_items(store: Store) -> None:
    repo = store.progress
    assert repo.get(FORECAST_BATCH, "j1") is None
    assert not repo.advance(FORECAST_BATCH, "j1")  # no record before begin
    repo.begin(FORECAST_BATCH, "j1", 3)
    repo.advance(FORECAST_BATCH, "j1")
    repo.advance(FORECAST_BATCH, "j1", failure=ItemFailure("u1", "insufficient_data", "too short"))
    repo.advance(FORECAST_BATCH, "j1", done=0, retried=1)
    repo.advance(FORECAST_BATCH, "j1", done=0, added=2)
    progress = repo.get(FORECAST_BATCH, "j1")
    assert progress is not None
    assert (progress.n_total, progress.n_done, progress.n_failed, progress.n_retried) == (5, 2, 1, 1)
    assert progress.failures == (ItemFailure("u1", "insufficient_data", "too short"),)
    # The same id under another kind is another job.
    assert repo.get(REPORT_RUN, "j1") is None


def test_time_left_is_the_mean_time_per_item_times_the_items_left(store: Store) -> None:
    store.progress.begin(REPORT_RUN, "r", 4)
    fresh = store.progress.get(REPORT_RUN, "r")
    assert fresh is not None and fresh.eta_seconds() is None  # nothing finished: no estimate
    store.progress.advance(REPORT_RUN, "r")
    one = store.progress.get(REPORT_RUN, "r")
    assert one is not None
    assert one.eta_seconds(one.started_at + timedelta(seconds=10)) == 30.0
    store.progress.advance(REPORT_RUN, "r", done=3)
    done = store.progress.get(REPORT_RUN, "r")
    assert done is not None and done.eta_seconds() == 0.0


def test_begin_again_restarts_a_rerun_and_failures_are_capped(store: Store) -> None:
    repo = store.progress
    repo.begin(FORECAST_BATCH, "j", MAX_FAILURES + 5)
    for i in range(MAX_FAILURES + 5):
        repo.advance(FORECAST_BATCH, "j", failure=ItemFailure(f"s{i}", "bad", "bad"))
    capped = repo.get(FORECAST_BATCH, "j")
    assert capped is not None and capped.n_failed == MAX_FAILURES + 5 and len(capped.failures) == MAX_FAILURES
    repo.begin(FORECAST_BATCH, "j", 2)
    again = repo.get(FORECAST_BATCH, "j")
    assert again is not None and (again.n_total, again.n_done, again.n_failed, again.failures) == (2, 0, 0, ())


def test_get_many_and_delete(store: Store) -> None:
    for run_id in ("a", "b"):
        store.progress.begin(REPORT_RUN, run_id, 1)
    assert set(store.progress.get_many(REPORT_RUN, ["a", "b", "c"])) == {"a", "b"}
    assert store.progress.delete(REPORT_RUN, ["a"]) == 1
    assert set(store.progress.get_many(REPORT_RUN, ["a", "b"])) == {"b"}


def test_tracker_never_fails_the_work_when_recording_fails(tmp_path) -> None:
    import pytest

    from data.db import Database
    from data.exceptions import StorageUnavailableError
    from data.progress_repo import ProgressRepository

    # A database that cannot be opened: every write raises StorageUnavailableError.
    broken = ProgressRepository(Database.from_url(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"))
    with pytest.raises(StorageUnavailableError):
        broken.begin(FORECAST_BATCH, "j", 2)
    tracker = ProgressTracker(broken, FORECAST_BATCH, "j")
    tracker.begin(2)  # logged, not raised: the job goes on
    tracker.item_done("x", ValueError("boom"))
    tracker.item_failed("y", "bad", "bad")
    ProgressTracker(None, FORECAST_BATCH, "j").item_done("x")  # outside a job: records nothing


def test_pickled_tracker_records_in_the_same_database(target: Target) -> None:
    """A structure fit runs in a worker process: its pickled tracker reopens the store's database."""
    import pickle

    from data.progress_repo import STRUCTURE_FORECAST

    # The service's store names its PostgreSQL schema in the URL (TRADECAST_DATABASE_URL), which is
    # what travels; the fixture's connect_args would not.
    store = Store.from_url(schema_url(target.url, target.schema)) if target.schema else target.open()
    tracker = ProgressTracker(store.progress, STRUCTURE_FORECAST, "trade")
    copy = pickle.loads(pickle.dumps(tracker))
    assert copy.repository is not None and copy.repository is not store.progress
    copy.count(0, 3, "")
    copy.count(1, 3, "x")
    progress = store.progress.get(STRUCTURE_FORECAST, "trade")
    store.dispose()
    assert progress is not None and (progress.n_total, progress.n_done) == (3, 1)


def test_pickled_tracker_of_an_in_memory_database_records_nothing() -> None:
    import pickle

    from data.db import Database
    from data.progress_repo import STRUCTURE_FORECAST, ProgressRepository

    memory = Database.from_url("sqlite://")
    copy = pickle.loads(pickle.dumps(ProgressTracker(ProgressRepository(memory), STRUCTURE_FORECAST, "s")))
    assert copy.repository is None  # another process cannot reach that database
    copy.count(0, 2, "")  # so recording is a no-op there, never an error
    memory.dispose()


def test_pickled_tracker_never_carries_the_database_password() -> None:
    """A pickled task may cross the network (Dask): a URL with a password stays behind."""
    import pickle

    from data.db import Database
    from data.progress_repo import STRUCTURE_FORECAST, ProgressRepository

    db = Database.from_url("postgresql+psycopg://tradecast:s3cret-pw@127.0.0.1:5432/test")
    try:
        pickled = pickle.dumps(ProgressTracker(ProgressRepository(db), STRUCTURE_FORECAST, "s"))
        assert b"s3cret-pw" not in pickled
        assert pickle.loads(pickled).repository is None  # its copy records nothing
    finally:
        db.dispose()
