"""Scheduler: fires on time, coalesces missed fires, runs each fire exactly once across
schedulers sharing a database (SQLite file; PostgreSQL when TRADECAST_TEST_POSTGRES_URL is set),
and keeps going after a failed run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from data import SeriesMeta, Store
from reports.definitions import ReportDefinition, build_trigger
from reports.options import ReportOptions
from reports.scheduler import ReportScheduler, previous_fire_time, stored_trigger
from reports.store import FAILED, SUCCEEDED, ReportRun, ReportStore, run_key
from tests.postgres import schema_url, temporary_schema
from tests.reports.conftest import make_store, monthly_series

EVERY_2S = "*/2 * * * * *"


def _options(**kw: object) -> ReportOptions:
    # second_schedules: the tests fire every 2 s instead of waiting minutes (TRADECAST_SCHEDULE_SECONDS).
    values: dict[str, object] = {
        "report_dir": None,
        "refresh_seconds": 3600,
        "backtest_windows": 1,
        "second_schedules": True,
    }
    values.update(kw)
    return ReportOptions(**values)  # type: ignore[arg-type]


def _add_series(store: Store, series_id: str = "s1") -> None:
    store.series.save_series(SeriesMeta(series_id, frequency="monthly"), monthly_series(36))


def _all_runs(reports: ReportStore, name: str) -> list[ReportRun]:
    return reports.list_runs(name, limit=1000)[0]


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_previous_fire_time_finds_latest_fire_at_or_before_now() -> None:
    weekly = build_trigger("0 7 * * 1", "UTC")
    friday = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert previous_fire_time(weekly, friday) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert previous_fire_time(weekly, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 7, 0, tzinfo=UTC
    )
    yearly = build_trigger("0 0 1 1 *", "Europe/Moscow")
    assert previous_fire_time(yearly, friday) == datetime(2025, 12, 31, 21, 0, tzinfo=UTC)
    assert previous_fire_time(
        build_trigger(EVERY_2S, seconds=True), datetime(2026, 1, 1, 0, 0, 3, 500, tzinfo=UTC)
    ) == (datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC))


def test_scheduler_fires_on_time(store: Store, reports: ReportStore) -> None:
    _add_series(store)
    reports.create_definition(ReportDefinition(name="fast", series_ids=("s1",), model="drift", schedule=EVERY_2S))
    scheduler = ReportScheduler(store, _options())
    scheduler.start(catch_up=False)
    try:
        assert _wait_for(lambda: reports.count_runs("fast", status=SUCCEEDED) >= 2, timeout=10)
    finally:
        scheduler.shutdown()
    runs = _all_runs(reports, "fast")
    for run in runs:
        assert run.trigger == "schedule"
        assert run.as_of.microsecond == 0 and run.as_of.second % 2 == 0
        assert run.started_at is not None
        # On time: claimed within 2 s of its cron time (the next fire is 2 s later), even on a busy CI box.
        assert timedelta(0) <= run.started_at - run.as_of < timedelta(seconds=2)
    assert len({r.run_key for r in runs}) == len(runs)


def test_missed_fires_coalesce_into_one_run_with_fast_clock(store: Store, reports: ReportStore) -> None:
    _add_series(store)
    created = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    reports.create_definition(
        ReportDefinition(name="daily", series_ids=("s1",), model="drift", schedule="0 3 * * *"), now=created
    )
    scheduler = ReportScheduler(store, _options())
    # Down from creation until 10 March 09:00: 9 fires were missed; only the latest runs.
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    done = scheduler.catch_up(now)
    assert [r.as_of for r in done] == [datetime(2026, 3, 10, 3, 0, tzinfo=UTC)]
    # A restart later the same day: that fire already ran, nothing runs twice.
    assert scheduler.catch_up(now + timedelta(hours=5)) == []
    assert ReportScheduler(store, _options()).catch_up(now + timedelta(hours=6)) == []
    # Down again for three days: one more run, for the latest fire only.
    done = scheduler.catch_up(datetime(2026, 3, 13, 4, 0, tzinfo=UTC))
    assert [r.as_of for r in done] == [datetime(2026, 3, 13, 3, 0, tzinfo=UTC)]
    assert reports.count_runs("daily") == 2


def test_fire_before_last_definition_change_is_not_missed(store: Store, reports: ReportStore) -> None:
    _add_series(store)
    reports.create_definition(
        ReportDefinition(name="weekly", series_ids=("s1",), model="drift", schedule="0 7 * * 1"),
        now=datetime(2026, 11, 25, tzinfo=UTC),  # a Wednesday, after Monday's fire
    )
    assert ReportScheduler(store, _options()).catch_up(datetime(2026, 11, 27, tzinfo=UTC)) == []


def test_scheduler_start_catches_up_once_in_background(store: Store, reports: ReportStore) -> None:
    _add_series(store)
    reports.create_definition(
        ReportDefinition(name="daily", series_ids=("s1",), model="drift", schedule="0 3 * * *"),
        now=datetime.now(UTC) - timedelta(days=5),
    )
    for _ in range(2):  # start, stop, start again: still one run
        scheduler = ReportScheduler(store, _options())
        scheduler.start()
        try:
            assert _wait_for(lambda: reports.count_runs("daily", status=SUCCEEDED) >= 1, timeout=10)
            time.sleep(0.3)
        finally:
            scheduler.shutdown()
    runs = _all_runs(reports, "daily")
    assert len(runs) == 1
    assert runs[0].as_of == previous_fire_time(build_trigger("0 3 * * *"), datetime.now(UTC))


def test_failed_run_is_recorded_and_scheduler_keeps_going(store: Store, reports: ReportStore) -> None:
    reports.create_definition(
        ReportDefinition(name="flaky", series_ids=("later",), model="drift", schedule="* * * * * *")
    )
    scheduler = ReportScheduler(store, _options())
    scheduler.start(catch_up=False)
    try:
        assert _wait_for(lambda: reports.count_runs("flaky", status=FAILED) >= 2, timeout=10)
        assert scheduler.running
        _add_series(store, "later")
        assert _wait_for(lambda: reports.count_runs("flaky", status=SUCCEEDED) >= 1, timeout=10)
    finally:
        scheduler.shutdown()
    failed = [r for r in _all_runs(reports, "flaky") if r.status == FAILED]
    assert all("could be forecast" in (r.error or "") and "Traceback" in (r.traceback or "") for r in failed)


def _check_exactly_once(urls: list[str], seconds: float) -> None:
    stores = [make_store(urls[0])] + [Store.from_url(u) for u in urls[1:]]
    try:
        _add_series(stores[0])
        reports = ReportStore.for_store(stores[0])
        reports.create_definition(ReportDefinition(name="shared", series_ids=("s1",), model="drift", schedule=EVERY_2S))
        schedulers = [ReportScheduler(s, _options()) for s in stores]
        for s in schedulers:
            s.start(catch_up=False)
        time.sleep(seconds)
        for s in schedulers:
            s.shutdown()
        runs = _all_runs(reports, "shared")
        fires = {t for s in schedulers for t in s.stats.fires}
        assert len(fires) >= 2
        # Every fire that either scheduler saw ran exactly once, by exactly one of them.
        assert sorted(r.as_of for r in runs) == sorted(fires)
        assert sum(s.stats.claimed for s in schedulers) == len(runs)
        # The schedulers did race for the same fires (the losers skipped); an instance busy with
        # the previous run may sit a fire out, so not every fire needs a loser.
        assert sum(s.stats.skipped for s in schedulers) >= 1
        assert all(r.status == SUCCEEDED for r in runs), [r.error for r in runs]
        assert {r.run_key for r in runs} == {run_key("shared", t) for t in fires}
    finally:
        for s in stores:
            s.dispose()


def test_exactly_once_across_two_schedulers_sharing_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    _check_exactly_once([url, url], seconds=5.0)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get("TRADECAST_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TRADECAST_TEST_POSTGRES_URL is not set")
    with temporary_schema(base, "tc_reports") as schema:
        yield schema_url(base, schema)


@pytest.mark.postgres
def test_exactly_once_across_two_schedulers_sharing_postgres(postgres_url: str) -> None:
    _check_exactly_once([postgres_url, postgres_url], seconds=5.0)


_PROCESS_SCRIPT = textwrap.dedent(
    """
    import sys, time, warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    from data import Store
    from reports.options import ReportOptions
    from reports.scheduler import ReportScheduler
    store = Store.from_url(sys.argv[1])
    options = ReportOptions(report_dir=None, refresh_seconds=3600, backtest_windows=1, second_schedules=True)
    scheduler = ReportScheduler(store, options)
    scheduler.start(catch_up=False)
    time.sleep(float(sys.argv[2]))
    scheduler.shutdown()
    print(scheduler.stats.claimed, scheduler.stats.skipped, len(scheduler.stats.fires))
    """
)


@pytest.mark.slow  # two fresh interpreters importing the forecasting stack: 20-40 s
def test_exactly_once_across_two_processes_sharing_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'procs.db'}"
    store = make_store(url)
    _add_series(store)
    reports = ReportStore.for_store(store)
    reports.create_definition(ReportDefinition(name="procs", series_ids=("s1",), model="drift", schedule=EVERY_2S))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, url, "7"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    stats = [tuple(int(x) for x in out.split()) for out, _ in outputs]
    runs = _all_runs(reports, "procs")
    assert len(runs) >= 1
    assert sum(s[0] for s in stats) == len(runs)  # each run claimed by exactly one process
    assert len({r.run_key for r in runs}) == len(runs)
    assert all(r.status == SUCCEEDED for r in runs)
    store.dispose()


def test_scheduler_picks_up_new_and_disabled_definitions_on_refresh(store: Store, reports: ReportStore) -> None:
    import dataclasses

    _add_series(store)
    scheduler = ReportScheduler(store, _options(refresh_seconds=0.5))
    scheduler.start(catch_up=False)
    try:
        definition = ReportDefinition(name="later", series_ids=("s1",), model="drift", schedule=EVERY_2S)
        reports.create_definition(definition)  # as another process would, after this one started
        assert _wait_for(lambda: reports.count_runs("later", status=SUCCEEDED) >= 1, timeout=10)
        reports.update_definition(dataclasses.replace(definition, enabled=False))
        time.sleep(1.5)  # a refresh removes the job
        count = reports.count_runs("later")
        time.sleep(2.5)  # at least one more fire time passes
        assert reports.count_runs("later") == count
    finally:
        scheduler.shutdown()


def test_stored_never_firing_schedule_is_skipped_not_fatal(store: Store, reports: ReportStore) -> None:
    # A definition stored before never-firing schedules were refused (written unchecked).
    _add_series(store)
    reports.create_definition(ReportDefinition(name="feb30", series_ids=("s1",), model="drift", schedule="0 0 30 2 *"))
    reports.create_definition(ReportDefinition(name="ok", series_ids=("s1",), model="drift", schedule="0 3 * * *"))
    assert stored_trigger("feb30", "0 0 30 2 *", "UTC") is None
    scheduler = ReportScheduler(store, _options())
    scheduler.start(catch_up=False)
    try:
        assert set(scheduler._schedules) == {"ok"}
        done = scheduler.catch_up(now=datetime.now(UTC) + timedelta(days=2))
        assert [run.report_name for run in done] == ["ok"]
        assert reports.count_runs("feb30") == 0
    finally:
        scheduler.shutdown()
