"""run_report: idempotence on (name, as_of), failures recorded, archive and "how did we do"."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from data import SeriesMeta, Store
from reports.definitions import ReportDefinition
from reports.exceptions import ReportNotFoundError, RunNotFoundError
from reports.jobs import run_report
from reports.options import ReportOptions
from reports.store import FAILED, RUNNING, STALE_AFTER_SECONDS, SUCCEEDED, ReportStore, run_key
from tests.reports.conftest import AS_OF, monthly_series


def test_run_report_succeeds_and_stores_html(loaded: Store, reports: ReportStore, tmp_path: Path) -> None:
    run = run_report("t1", AS_OF, loaded, trigger="cli", report_dir=tmp_path / "out")
    assert run.status == SUCCEEDED, run.error
    assert run.n_series == 2 and run.n_failed == 0
    assert run.as_of == AS_OF and run.trigger == "cli"
    assert run.duration_s is not None and run.duration_s >= 0
    html = reports.get_html(run.run_id)
    assert html.count('class="forecast-row"') == 2 * 4
    assert Path(run.details["file"]).read_text(encoding="utf-8") == html
    assert set(run.details["forecast_ids"]) == {"s1", "s2"}
    assert reports.latest_run("t1").run_id == run.run_id


def test_run_report_is_idempotent_on_name_and_as_of(loaded: Store, reports: ReportStore) -> None:
    first = run_report("t1", AS_OF, loaded)
    again = run_report("t1", AS_OF, loaded)
    assert again.run_id == first.run_id and again.finished_at == first.finished_at
    assert reports.count_runs("t1") == 1
    assert len(loaded.archive.list_forecasts("s1")) == 1  # not archived twice
    forced = run_report("t1", AS_OF, loaded, force=True)
    assert forced.run_id == first.run_id and forced.finished_at != first.finished_at
    assert reports.count_runs("t1") == 1


def test_unknown_report_raises_not_found(store: Store) -> None:
    with pytest.raises(ReportNotFoundError, match="no report named 'nope'"):
        run_report("nope", AS_OF, store)


def test_failed_run_records_error_and_traceback_then_retry_succeeds(store: Store, reports: ReportStore) -> None:
    reports.create_definition(ReportDefinition(name="bad", series_ids=("missing",), model="drift"))
    failed = run_report("bad", AS_OF, store)
    assert failed.status == FAILED
    assert "no series of report 'bad' could be forecast" in (failed.error or "")
    assert "missing" in (failed.error or "")
    assert "Traceback" in (failed.traceback or "") and "NoSeriesForecastError" in (failed.traceback or "")
    with pytest.raises(RunNotFoundError):
        reports.get_html(failed.run_id)
    with pytest.raises(RunNotFoundError, match="no successful run"):
        reports.latest_run("bad")
    store.series.save_series(SeriesMeta("missing", frequency="monthly"), monthly_series())
    retried = run_report("bad", AS_OF, store)
    assert retried.run_id == failed.run_id and retried.status == SUCCEEDED
    assert retried.error is None and retried.traceback is None


def test_run_without_any_forecast_logs_one_line_without_traceback(
    store: Store, reports: ReportStore, caplog: pytest.LogCaptureFixture
) -> None:
    reports.create_definition(ReportDefinition(name="bad", series_ids=("missing",), model="drift"))
    with caplog.at_level(logging.WARNING, logger="reports.jobs"):
        failed = run_report("bad", AS_OF, store)
    assert failed.status == FAILED
    (record,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "no series of report 'bad' could be forecast" in record.getMessage()


def test_later_run_scores_earlier_forecasts_how_did_we_do(loaded: Store, reports: ReportStore) -> None:
    early = run_report("t1", datetime(2022, 6, 15, tzinfo=UTC), loaded)
    late = run_report("t1", AS_OF, loaded)
    assert early.status == late.status == SUCCEEDED
    early_html = reports.get_html(early.run_id)
    late_html = reports.get_html(late.run_id)
    # The first run had nothing to score; the second scores the first's 4 forecasts per series
    # (June-September 2022, all observed by January 2024).
    assert early_html.count('class="past-row"') == 0 and "past-empty" in early_html
    assert late_html.count('class="past-row"') == 2 * 4
    assert "2022-06-15 00:00" in late_html


def test_as_of_cuts_periods_not_yet_ended(loaded: Store, reports: ReportStore) -> None:
    run = run_report("t1", datetime(2021, 3, 10, tzinfo=UTC), loaded)
    html = reports.get_html(run.run_id)
    assert "last observation 2021-02" in html
    assert ">2021-03</td>" in html  # first forecast period
    assert "stored after the as-of time" in html


def test_run_keys_differ_by_as_of_and_name() -> None:
    assert run_key("a", AS_OF) != run_key("a", AS_OF + timedelta(seconds=1))
    assert run_key("a", AS_OF) != run_key("b", AS_OF)
    assert run_key("a", AS_OF.replace(tzinfo=None)) == run_key("a", AS_OF)


@pytest.mark.slow  # spawns worker processes that import the forecasting stack
def test_parallel_collection_matches_serial(loaded: Store, reports: ReportStore) -> None:
    from reports.jobs import collect_report

    definition = reports.get_definition("t1").definition
    serial = collect_report(definition, loaded, AS_OF, backtest_windows=2, n_jobs=1).report
    parallel = collect_report(definition, loaded, AS_OF, backtest_windows=2, n_jobs=2).report
    assert [s.series_id for s in parallel.sections] == [s.series_id for s in serial.sections] == ["s1", "s2"]
    for a, b in zip(serial.sections, parallel.sections, strict=True):
        assert a.forecasts == b.forecasts and a.accuracy == b.accuracy


def test_interrupted_run_is_marked_failed_once_stale_and_can_be_redone(loaded: Store, reports: ReportStore) -> None:
    stuck = reports.claim_run("t1", AS_OF, trigger="schedule")  # its process stops here
    assert stuck is not None and stuck.started_at is not None
    blocked = run_report("t1", AS_OF, loaded)
    assert blocked.run_id == stuck.run_id and blocked.status == RUNNING  # may still be working
    assert reports.fail_stale_runs(3600, now=stuck.started_at + timedelta(minutes=59)) == []
    assert reports.fail_stale_runs(3600, now=stuck.started_at + timedelta(hours=2)) == [stuck.run_id]
    failed = reports.get_run_by_id(stuck.run_id)
    assert failed.status == FAILED and "interrupted" in (failed.error or "")
    redone = run_report("t1", AS_OF, loaded)
    assert redone.run_id == stuck.run_id and redone.status == SUCCEEDED, redone.error


def test_run_report_first_fails_runs_older_than_its_stale_limit(loaded: Store, reports: ReportStore) -> None:
    stuck = reports.claim_run("t1", AS_OF, trigger="schedule")
    assert stuck is not None
    time.sleep(0.01)
    redone = run_report("t1", AS_OF, loaded, stale_after_seconds=0.001)
    assert redone.run_id == stuck.run_id and redone.status == SUCCEEDED, redone.error


def test_stale_limit_option_defaults_to_the_run_stale_limit() -> None:
    # The limit itself is validated by the service settings (tests/api/test_settings.py).
    assert ReportOptions().stale_after_seconds == STALE_AFTER_SECONDS


def test_a_run_keyed_to_the_second_reads_what_was_stored_earlier_in_that_second(
    loaded: Store, reports: ReportStore
) -> None:
    """A run made now is keyed to its whole second; a series stored in that second, before it, is
    read as stored (not as stored after the as-of time, which would cut it)."""
    stored_at = max(v.created_at for v in loaded.series.list_vintages("s1"))
    second = stored_at.replace(microsecond=0)
    if second == stored_at:  # stored on a whole second: store once more, a moment later
        time.sleep(0.01)
        meta = SeriesMeta("s1", name="Series one", frequency="monthly", unit="USD bn", tags={"group": "test"})
        loaded.series.save_series(meta, monthly_series(seed=3))
        stored_at = max(v.created_at for v in loaded.series.list_vintages("s1"))
        second = stored_at.replace(microsecond=0)
    assert second < stored_at
    run = run_report("t1", second, loaded)
    assert run.status == SUCCEEDED
    assert "stored after the as-of time" not in (reports.get_html(run.run_id) or "")
