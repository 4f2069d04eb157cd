"""Report runs archive the same typed record as REST forecasts, naming the model fitted per series."""

from __future__ import annotations

from datetime import UTC, datetime

from data import SeriesMeta, Store
from reports.definitions import ReportDefinition
from reports.jobs import run_report
from reports.store import SUCCEEDED, ReportStore
from tests.reports.conftest import AS_OF, monthly_series


def test_report_archive_records_the_model_fitted_per_series(store: Store, reports: ReportStore) -> None:
    for sid, seed in (("s1", 1), ("s2", 2)):
        store.series.save_series(SeriesMeta(sid, frequency="monthly", tags={"group": "g"}), monthly_series(seed=seed))
    definition = ReportDefinition(
        name="per_series",
        title="Per-series models",
        tags={"group": "g"},
        model="drift",
        horizon=4,
        schedule=None,
        series_options={"s2": {"model": "seasonal_naive"}},
    )
    reports.create_definition(definition, now=datetime(2020, 1, 1, tzinfo=UTC))
    run = run_report("per_series", AS_OF, store)
    assert run.status == SUCCEEDED, run.error
    (s1,) = store.archive.list_forecasts("s1")
    (s2,) = store.archive.list_forecasts("s2")
    # Before the typed record, every row named the report's default model ("drift").
    assert s1.model == "drift" and s2.model == "seasonal_naive"


def test_report_archive_params_carry_the_rest_keys(loaded: Store) -> None:
    run = run_report("t1", AS_OF, loaded)
    assert run.status == SUCCEEDED, run.error
    (record,) = loaded.archive.list_forecasts("s1")
    params = record.params
    assert {"report", "run_id", "as_of"} <= set(params)
    assert params["report"] == "t1" and params["run_id"] == run.run_id
    rest_keys = {"frequency", "kind", "transform", "vintage", "data_hash", "interval_method", "warnings"}
    assert rest_keys <= set(params)
    assert params["interval_method"] and params["data_hash"] is None  # a stored vintage, as over REST
    assert params["vintage"]["series_id"] == "s1"
    # The series has complete calendar years: its growth and full-year blocks are archived too.
    assert params["growth"]["annual"] and params["full_year"]["how"] == "sum"
