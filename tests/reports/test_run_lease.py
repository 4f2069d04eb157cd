"""Report run leases (issue 21 item 9): a run killed mid-way is found by its expired lease and
re-run, exactly once per slot even with two schedulers on one database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from data import Store
from reports.exceptions import RunNotFoundError
from reports.jobs import execute_run, run_report
from reports.options import ReportOptions
from reports.scheduler import ReportScheduler
from reports.store import LEASE_SECONDS, RUNNING, SUCCEEDED, ReportStore, run_key
from tests.reports.conftest import AS_OF, make_store


def _killed_run(reports: ReportStore) -> tuple[str, object]:
    """A run claimed by a process that then died: it stays ``running`` and its lease runs out."""
    run = reports.claim_run("t1", AS_OF, trigger="schedule", lease_seconds=60)
    assert run is not None and run.lease_until is not None
    return run.run_id, run.lease_until + timedelta(seconds=1)


def test_claimed_run_holds_a_lease(loaded: Store, reports: ReportStore) -> None:
    run = reports.claim_run("t1", AS_OF, trigger="cli", lease_seconds=60)
    assert run is not None and run.started_at is not None and run.lease_until is not None
    assert run.lease_until - run.started_at == timedelta(seconds=60)
    assert reports.expired_runs(now=run.started_at + timedelta(seconds=59)) == []
    assert [r.run_id for r in reports.expired_runs(now=run.lease_until + timedelta(seconds=1))] == [run.run_id]


def test_expired_run_is_rerun_by_the_scheduler(loaded: Store, reports: ReportStore) -> None:
    killed_id, later = _killed_run(reports)
    scheduler = ReportScheduler(loaded, ReportOptions(report_dir=None, backtest_windows=2))
    assert scheduler.rerun_interrupted(now=later - timedelta(seconds=2)) == []  # lease still valid
    [redone] = scheduler.rerun_interrupted(now=later)
    assert redone.status == SUCCEEDED, redone.error
    assert redone.run_key == run_key("t1", AS_OF) and redone.run_id != killed_id
    assert redone.lease_until is None
    assert reports.count_runs("t1") == 1
    # The slot is done: a later refresh has nothing to redo.
    assert scheduler.rerun_interrupted(now=later + timedelta(hours=1)) == []


def test_expired_run_is_rerun_exactly_once_by_two_schedulers(tmp_path: Path, loaded: Store) -> None:
    reports = ReportStore.for_store(loaded)
    _, later = _killed_run(reports)
    # A second instance on its own engine over the same database file.
    other = make_store(str(loaded.engine.url))
    try:
        schedulers = [ReportScheduler(s, ReportOptions(report_dir=None, backtest_windows=2)) for s in (loaded, other)]
        redone: list[list[object]] = [[], []]
        start = threading.Barrier(2)

        def refresh(i: int) -> None:
            start.wait()
            redone[i] = list(schedulers[i].rerun_interrupted(now=later))

        threads = [threading.Thread(target=refresh, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(len(r) for r in redone) == [0, 1]
        assert sum(s.stats.succeeded for s in schedulers) == 1
        assert reports.count_runs("t1") == 1
        run = reports.get_run_by_key(run_key("t1", AS_OF))
        assert run is not None and run.status == SUCCEEDED
    finally:
        other.dispose()


def test_run_report_takes_over_an_expired_run(loaded: Store, reports: ReportStore) -> None:
    run = reports.claim_run("t1", AS_OF, trigger="schedule", lease_seconds=1)
    assert run is not None
    assert run_report("t1", AS_OF, loaded).status == RUNNING  # alive as far as anyone can tell
    time.sleep(1.2)
    redone = run_report("t1", AS_OF, loaded)
    assert redone.status == SUCCEEDED and redone.run_id != run.run_id, redone.error


def test_interrupted_process_cannot_overwrite_the_rerun(loaded: Store, reports: ReportStore) -> None:
    killed_id, later = _killed_run(reports)
    taken = reports.take_over_expired_run(run_key("t1", AS_OF), trigger="schedule", now=later)
    assert taken is not None
    assert reports.take_over_expired_run(run_key("t1", AS_OF), trigger="schedule", now=later) is None
    assert not reports.renew_lease(killed_id)
    with pytest.raises(RunNotFoundError, match="lease expired"):
        reports.finish_run(killed_id, status="failed", error="late")
    assert reports.get_run_by_id(taken.run_id).status == RUNNING


def test_running_run_renews_its_lease(loaded: Store, reports: ReportStore, monkeypatch: pytest.MonkeyPatch) -> None:
    run = reports.claim_run("t1", AS_OF, trigger="cli", lease_seconds=0.3)
    assert run is not None and run.lease_until is not None
    definition = reports.get_definition("t1").definition
    renewed: list[bool] = []
    real_renew = reports.renew_lease

    def counting(run_id: str, lease_seconds: float = LEASE_SECONDS) -> bool:
        renewed.append(real_renew(run_id, lease_seconds))
        return renewed[-1]

    monkeypatch.setattr(reports, "renew_lease", counting)
    import reports.jobs as jobs

    real_produce = jobs._produce_run

    def slow_produce(*args: object, **kwargs: object) -> object:
        deadline = time.monotonic() + 10
        while not renewed and time.monotonic() < deadline:  # a loaded machine may be slow to renew
            time.sleep(0.05)
        # Still leased well after its first lease would have run out.
        current = reports.get_run_by_id(run.run_id)
        assert current.lease_until is not None and current.lease_until > run.lease_until
        return real_produce(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "_produce_run", slow_produce)
    finished = execute_run(run, definition, loaded, reports, backtest_windows=2, lease_seconds=0.3)
    assert finished.status == SUCCEEDED, finished.error
    # The last renewal may race the finish (and then finds the run no longer running).
    assert renewed and renewed[0]


def test_lease_option_comes_from_the_run_lease_setting() -> None:
    from api.settings import Settings

    settings = Settings(_env_file=None, job_lease_seconds=42)
    assert settings.reports.lease_seconds == 42
    assert ReportOptions().lease_seconds == LEASE_SECONDS


def test_run_taken_over_is_still_found_by_the_id_its_client_was_given(loaded: Store, reports: ReportStore) -> None:
    killed_id, later = _killed_run(reports)
    taken = reports.take_over_expired_run(run_key("t1", AS_OF), trigger="schedule", now=later)
    assert taken is not None and taken.run_id != killed_id
    # A second take-over (the redo died too): both earlier ids still lead to the run.
    again = reports.take_over_expired_run(
        run_key("t1", AS_OF), trigger="schedule", now=later + timedelta(seconds=LEASE_SECONDS + 1)
    )
    assert again is not None
    for old in (killed_id, taken.run_id, again.run_id):
        assert reports.get_run("t1", old).run_id == again.run_id
    definition = reports.get_definition("t1").definition
    finished = execute_run(again, definition, loaded, reports, backtest_windows=2)
    assert finished.status == SUCCEEDED and reports.get_run("t1", killed_id).status == SUCCEEDED
    with pytest.raises(RunNotFoundError):
        reports.get_run("t1", "0" * 32)
