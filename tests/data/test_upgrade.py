"""One Alembic history creates every table, and upgrading a database made by the code
before it (report tables from migrations, ``api_jobs`` from the service's own
``create_all``) keeps every row, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data import ForecastRecord, SeriesMeta, Store
from data.db import Database, alembic_config
from data.tables import ReportRunsTable, metadata
from reports.definitions import ReportDefinition
from reports.store import ReportStore, run_key
from tests.data.conftest import PG_ENV
from tests.postgres import temporary_schema

FIXTURE = Path(__file__).parent / "fixtures" / "old_store.db"
OLD_HEAD = "0002_reports"
HEAD = "0011_job_lease"
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
#: Rows written by tests/data/fixtures/make_old_store.py (and by _fill_old_schema below).
EXPECTED_COUNTS = {
    "series": 2,
    "series_tags": 2,
    "vintages": 3,
    "observations": 6,
    "forecasts": 1,
    "report_definitions": 1,
    "report_runs": 1,
    "api_jobs": 1,
}


def _old_jobs_table(old_metadata: sa.MetaData) -> sa.Table:
    """``api_jobs`` exactly as the service declared it before the single history."""
    from data.tables import UTCDateTime

    return sa.Table(
        "api_jobs",
        old_metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("n_items", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("owner", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    )


def _fill_old_schema(store: Store) -> None:
    """The rows of make_old_store.py, written through an old-schema (0002 + create_all) database."""
    # Today's store writes and reads vintages.published_at (0007), which the old schema lacks:
    # the column is there only while the store writes, and dropped before the upgrade.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE vintages ADD COLUMN published_at TIMESTAMP")
    _fill_old_series(store)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE vintages DROP COLUMN published_at")
    _fill_old_reports_and_jobs(store)


def _fill_old_series(store: Store) -> None:
    meta = SeriesMeta(
        "cn_ru_exports", name="China exports to Russia", unit="USD bn", tags={"flow": "export", "reporter": "CN"}
    )
    y = pd.Series([9.3, float("nan"), 10.1], index=pd.period_range("2023-01", periods=3, freq="M"))
    store.series.save_series(meta, y, release="GACC 2023-04")
    store.series.save_series(meta, y + 1.0, release="GACC 2023-05")
    share = SeriesMeta("ru_share", frequency="quarterly", kind="share")
    store.series.save_series(share, pd.Series([0.2, 0.25], index=pd.period_range("2023Q1", periods=2, freq="Q")))
    frame = pd.DataFrame(
        {"mean": [11.0, 11.5], "lo_80": [10.0, 10.2], "hi_80": [12.0, 12.8]},
        index=pd.period_range("2023-04", periods=2, freq="M", name="ds"),
    )
    vintage = store.series.list_vintages("cn_ru_exports")[-1].vintage_id
    store.archive.save_forecast(
        ForecastRecord("cn_ru_exports", vintage, "naive", {"season_length": 12}, 2, (80,), frame, "f" * 32, CREATED)
    )


def _fill_old_reports_and_jobs(store: Store) -> None:
    reports = ReportStore.for_store(store)
    reports.create_definition(ReportDefinition("monthly-trade", series_ids=("cn_ru_exports",)), now=CREATED)
    # Written as a row (not through claim_run): this schema predates the run lease column.
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(ReportRunsTable.__table__).values(
                id="r" * 32,
                report_name="monthly-trade",
                run_key=run_key("monthly-trade", CREATED),
                as_of=CREATED,
                trigger="cli",
                status="succeeded",
                created_at=CREATED,
                started_at=CREATED,
                finished_at=CREATED,
                n_series=1,
                n_failed=0,
                details={},
                html="<p>old</p>",
            )
        )
    old_metadata = sa.MetaData()
    jobs = _old_jobs_table(old_metadata)
    with store.engine.begin() as conn:
        old_metadata.create_all(conn)
        conn.execute(
            sa.insert(jobs).values(
                id="a" * 32,
                kind="forecast_batch",
                status="succeeded",
                request="{}",
                result="{}",
                n_items=1,
                attempts=1,
                owner="b" * 32,
                created_at=CREATED,
                updated_at=CREATED,
                heartbeat_at=CREATED,
            )
        )


def _assert_old_rows_kept(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in EXPECTED_COUNTS}
    assert counts == EXPECTED_COUNTS
    stored = store.series.read_series("cn_ru_exports")
    assert stored.vintage.number == 2 and stored.vintage.release == "GACC 2023-05"
    assert stored.series.tolist()[::2] == [10.3, 11.1] and pd.isna(stored.series.iloc[1])
    assert stored.meta.tags == {"flow": "export", "reporter": "CN"} and stored.meta.unit == "USD bn"
    assert store.series.read_series("ru_share").series.tolist() == [0.2, 0.25]
    forecast = store.archive.get_forecast("f" * 32)
    assert forecast.frame["hi_80"].tolist() == [12.0, 12.8] and forecast.created_at == CREATED
    reports = ReportStore.for_store(store)
    run = reports.latest_run("monthly-trade")
    assert run.status == "succeeded" and reports.get_html(run.run_id) == "<p>old</p>"
    job = store.jobs.get("a" * 32)
    assert job is not None and job.status == "succeeded" and job.owner == "b" * 32 and job.created_at == CREATED
    # 0011_job_lease: the job's claim ends 30 s (the old staleness default) after its last heartbeat.
    assert job.lease_until == CREATED + timedelta(seconds=30)


def _assert_schema_matches_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert tables == set(metadata.tables)
    assert diffs == []


def test_upgrade_of_an_old_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    store = Store.from_url(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == OLD_HEAD
        store.create_schema()
        _assert_old_rows_kept(store)
        _assert_schema_matches_metadata(store)
        store.create_schema()  # idempotent at head
        _assert_old_rows_kept(store)
    finally:
        store.dispose()


@pytest.mark.postgres
def test_upgrade_of_an_old_postgres_database_keeps_every_row() -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    with temporary_schema(url, "tc_upgrade") as schema:
        store = Store.from_url(url, connect_args={"options": f"-csearch_path={schema}"})
        try:
            store.db.upgrade(OLD_HEAD)
            _fill_old_schema(store)
            store.create_schema()
            _assert_old_rows_kept(store)
            _assert_schema_matches_metadata(store)
        finally:
            store.dispose()


def test_old_schema_built_in_the_test_matches_the_fixture(tmp_path: Path) -> None:
    # The PostgreSQL test rebuilds the old database by hand; on SQLite, check that this
    # rebuild gives the same tables and row counts as the committed fixture.
    store = Store.from_url(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    try:
        store.db.upgrade(OLD_HEAD)
        _fill_old_schema(store)
        store.create_schema()
        _assert_old_rows_kept(store)
    finally:
        store.dispose()


def test_fresh_schema_leaves_no_table_outside_the_alembic_history(store: Store) -> None:
    _assert_schema_matches_metadata(store)
    assert {"report_definitions", "report_runs", "api_jobs"} <= set(metadata.tables)


def test_migration_of_jobs_creates_the_table_only_when_missing(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        db.upgrade(OLD_HEAD)
        with db.engine.connect() as conn:
            assert not sa.inspect(conn).has_table("api_jobs")
        db.upgrade()
        with db.engine.connect() as conn:
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("api_jobs")}
        assert indexes == {"ix_api_jobs_status"}
    finally:
        db.dispose()


def _vintage_id_after_reupload(store: Store, series_id: str) -> int:
    y = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2020", periods=3, freq="Y"))
    return store.series.save_series(SeriesMeta(series_id, frequency="annual"), y).vintage_id


def test_vintage_ids_never_repeat_after_delete(store: Store) -> None:
    first = _vintage_id_after_reupload(store, "again")
    store.series.delete_series("again")
    second = _vintage_id_after_reupload(store, "again")
    assert second > first


def test_upgrade_to_vintage_identity_starts_above_every_recorded_id(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'ids.db'}")
    try:
        store.db.upgrade("0003_jobs")
        with store.engine.begin() as conn:  # today's store writes published_at (0007): see _fill_old_schema
            conn.exec_driver_sql("ALTER TABLE vintages ADD COLUMN published_at TIMESTAMP")
        old = _vintage_id_after_reupload(store, "gone")
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE vintages DROP COLUMN published_at")
        frame = pd.DataFrame({"mean": [4.0]}, index=pd.period_range("2023", periods=1, freq="Y", name="ds"))
        # An archived forecast of a vintage deleted long ago, with a higher id than any left.
        store.archive.save_forecast(ForecastRecord(None, old + 5, "naive", {}, 1, (), frame))
        store.series.delete_series("gone")
        store.create_schema()
        with store.engine.connect() as conn:
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'vintages'")).scalar_one()
        assert "AUTOINCREMENT" in sql.upper()
        _assert_schema_matches_metadata(store)
        new = _vintage_id_after_reupload(store, "gone")
        assert new > old + 5
        store.series.delete_series("gone")
        assert _vintage_id_after_reupload(store, "gone") > new
        with store.db.write() as conn:  # the downgrade rebuilds the table without AUTOINCREMENT
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0003_jobs")
        with store.engine.connect() as conn:
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'vintages'")).scalar_one()
        assert "AUTOINCREMENT" not in sql.upper()
    finally:
        store.dispose()
