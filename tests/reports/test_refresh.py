"""Scheduled refresh: a cron-fired source query that makes a vintage only when the data changed,
then runs the reports using those series; each fire runs once across schedulers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from data.connectors import SourceError, SourceOptions
from data.sources_repo import RefreshDefinition, RefreshExistsError, RefreshNotFoundError
from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition
from reports.options import ReportOptions
from reports.refresh import RefreshScheduler, create_refresh, reports_using, run_refresh
from reports.store import ReportStore
from tests.data._recorded import IMF_QUERY, RECORDED, Recorded

SERIES = "imf.IMTS.CHN.XG_FOB_USD.RUS.A"


@pytest.fixture
def options(tmp_path) -> ReportOptions:
    return ReportOptions(report_dir=tmp_path / "html", backtest_windows=1)


@pytest.fixture
def refresh(store):
    return create_refresh(store, RefreshDefinition("cn-ru-imf", "imf", IMF_QUERY, "0 6 * * *"))


def _revised(value: str) -> Recorded:
    body = json.loads((RECORDED / "imf_imts_chn_rus_exports_annual.json").read_text())
    body["dataSets"][0]["series"]["0:0:0:0"]["observations"]["4"] = [value]
    return Recorded(body=json.dumps(body).encode())


def _report(store, name: str, series_ids: tuple[str, ...]) -> None:
    ReportStore.for_store(store).create_definition(
        ReportDefinition(name=name, series_ids=series_ids, horizon=2, model="naive", schedule=None)
    )


def test_refresh_definition_is_checked_and_stored(store, refresh) -> None:
    assert store.sources.get_refresh("cn-ru-imf").definition.query == IMF_QUERY
    with pytest.raises(RefreshExistsError):
        create_refresh(store, RefreshDefinition("cn-ru-imf", "imf", IMF_QUERY, "0 6 * * *"))
    with pytest.raises(InvalidParameterError, match="cron"):
        create_refresh(store, RefreshDefinition("bad-cron", "imf", IMF_QUERY, "every monday"))
    with pytest.raises(InvalidParameterError, match="unknown source"):
        create_refresh(store, RefreshDefinition("bad-source", "fred", IMF_QUERY, "0 6 * * *"))
    assert [s.definition.name for s in store.sources.list_refreshes()] == ["cn-ru-imf"]
    store.sources.delete_refresh("cn-ru-imf")
    with pytest.raises(RefreshNotFoundError):
        store.sources.delete_refresh("cn-ru-imf")


def test_run_stores_changed_data_and_runs_only_the_reports_using_it(store, refresh, options) -> None:
    _report(store, "uses-it", (SERIES,))
    _report(store, "other", ("unrelated",))
    first = run_refresh("cn-ru-imf", store, options=options, sources=SourceOptions(transport=Recorded().transport))
    assert first.changed == [SERIES]
    assert [r.report_name for r in first.reports] == ["uses-it"] and first.reports[0].status == "succeeded"
    assert reports_using(store, [SERIES]) == ["uses-it"]

    same = run_refresh("cn-ru-imf", store, options=options, sources=SourceOptions(transport=Recorded().transport))
    assert same.changed == [] and same.reports == [] and len(store.series.list_vintages(SERIES)) == 1

    revised = run_refresh(
        "cn-ru-imf", store, options=options, sources=SourceOptions(transport=_revised("50700").transport)
    )
    assert revised.changed == [SERIES] and len(store.series.list_vintages(SERIES)) == 2
    assert len(revised.reports) == 1 and revised.reports[0].run_id != first.reports[0].run_id
    # The run reads the revised vintage: its as-of is past the vintage's creation, not in the future.
    assert revised.fetched[0].vintage.created_at <= revised.reports[0].as_of <= revised.reports[0].created_at
    stored = store.sources.get_refresh("cn-ru-imf")
    assert stored.last_status == "succeeded" and stored.last_result["series"][0]["created"] is True


def test_failed_fetch_is_recorded_and_raised(store, refresh, options) -> None:
    with pytest.raises(SourceError):
        run_refresh(
            "cn-ru-imf", store, options=options, sources=SourceOptions(transport=Recorded(status=503).transport)
        )
    stored = store.sources.get_refresh("cn-ru-imf")
    assert stored.last_status == "failed" and "source_unavailable" in (stored.last_error or "")
    assert not store.series.has_series(SERIES)


def test_each_fire_runs_once_across_schedulers(store, refresh, options) -> None:
    created = store.sources.get_refresh("cn-ru-imf").updated_at
    later = created + timedelta(days=2)
    sources = SourceOptions(transport=Recorded().transport)
    one = RefreshScheduler(store, options, sources, clock=lambda: later)
    two = RefreshScheduler(store, options, sources, clock=lambda: later)
    assert one.fire_due("cn-ru-imf") is not None
    assert two.fire_due("cn-ru-imf") is None  # the same 06:00 fire, already claimed
    assert len(store.series.list_vintages(SERIES)) == 1
    next_day = RefreshScheduler(store, options, sources, clock=lambda: later + timedelta(days=1))
    outcome = next_day.fire_due("cn-ru-imf")
    assert outcome is not None and outcome.changed == []  # fetched again; same data, no vintage


def test_a_claimed_fire_is_handed_to_the_run_hook_once(store, refresh, options) -> None:
    """The service hands a due refresh to its durable job queue; the claim still makes it once."""
    later = store.sources.get_refresh("cn-ru-imf").updated_at + timedelta(days=2)
    queued: list[str] = []
    one = RefreshScheduler(store, options, clock=lambda: later, run=queued.append)
    two = RefreshScheduler(store, options, clock=lambda: later, run=queued.append)
    assert one.fire_due("cn-ru-imf") is None and two.fire_due("cn-ru-imf") is None
    assert queued == ["cn-ru-imf"]
    assert not store.series.has_series(SERIES)  # not run here: the job runs it


def test_fires_before_the_definition_are_not_due(store, refresh, options) -> None:
    created = store.sources.get_refresh("cn-ru-imf").updated_at
    scheduler = RefreshScheduler(store, options, SourceOptions(transport=Recorded().transport), clock=lambda: created)
    assert scheduler.fire_due("cn-ru-imf") is None and not store.series.has_series(SERIES)


def test_scheduled_failure_does_not_raise(store, refresh, options) -> None:
    later = store.sources.get_refresh("cn-ru-imf").updated_at + timedelta(days=2)
    failing = SourceOptions(transport=Recorded(status=500).transport)
    assert RefreshScheduler(store, options, failing, clock=lambda: later).fire_due("cn-ru-imf") is None
    assert store.sources.get_refresh("cn-ru-imf").last_status == "failed"
