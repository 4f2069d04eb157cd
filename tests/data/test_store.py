"""Store: vintages, as-of reads, revisions, listing, deletion, forecast archive (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

import data.series_repo as series_repo
from data import (
    ConflictError,
    ForecastNotFoundError,
    ForecastRecord,
    IngestError,
    SeriesMeta,
    SeriesNotFoundError,
    StorageUnavailableError,
    Store,
    VintageNotFoundError,
    load_series,
)
from forecasting.exceptions import NotFoundError
from forecasting.frames import MEAN, hi_col, lo_col


def monthly(values, start="2021-01"):
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"), dtype=float)


META = SeriesMeta("cn_ru_exports_monthly", name="CN exports to RU", frequency="monthly", unit="USD bn")


def test_vintages_read_back_exactly_what_was_uploaded_at_each_time(store: Store):
    uploads = [
        monthly([1.0, 2.0, np.nan, 4.0]),
        monthly([1.0, 2.5, 3.0, 4.0, 5.0]),  # revision of Feb, gap filled, one more month
        monthly([0.9, 2.5, 3.0, 4.0, 5.0, 6.5], start="2021-01"),
    ]
    infos, moments = [], []
    for k, y in enumerate(uploads):
        infos.append(store.series.save_series(META, y, release=f"release {k + 1}"))
        moments.append(datetime.now(UTC))
        time.sleep(0.002)

    assert [i.number for i in infos] == [1, 2, 3]
    assert [v.vintage_id for v in store.series.list_vintages(META.series_id)] == [i.vintage_id for i in infos]
    for y, info, moment in zip(uploads, infos, moments, strict=True):
        by_time = store.series.read_series(META.series_id, as_of=moment)
        by_id = store.series.read_series(META.series_id, vintage_id=info.vintage_id)
        for stored in (by_time, by_id):
            assert stored.vintage.vintage_id == info.vintage_id
            pd.testing.assert_series_equal(stored.series, y, check_names=False, check_freq=True)
            assert stored.series.index.name == "ds"
    latest = store.series.read_series(META.series_id)
    pd.testing.assert_series_equal(latest.series, uploads[-1], check_names=False)
    assert latest.vintage.release == "release 3"
    assert latest.meta == META


def test_read_before_first_vintage_raises_vintage_not_found(store: Store):
    before = datetime.now(UTC) - timedelta(seconds=1)
    store.series.save_series(META, monthly([1.0, 2.0]))
    with pytest.raises(VintageNotFoundError, match="no vintage at or before"):
        store.series.read_series(META.series_id, as_of=before)


def test_naive_as_of_is_read_as_utc(store: Store):
    info = store.series.save_series(META, monthly([1.0, 2.0]))
    naive = info.created_at.astimezone(UTC).replace(tzinfo=None)
    assert store.series.read_series(META.series_id, as_of=naive).vintage.vintage_id == info.vintage_id


def test_created_at_is_utc_with_microseconds_and_increasing(store: Store):
    infos = [store.series.save_series(META, monthly([float(k), 1.0])) for k in range(3)]
    for info in infos:
        assert info.created_at.tzinfo is not None and info.created_at.utcoffset() == timedelta(0)
    stored = store.series.list_vintages(META.series_id)
    assert [v.created_at for v in stored] == [i.created_at for i in infos]
    assert stored[0].created_at < stored[1].created_at < stored[2].created_at


def test_revisions_lists_changed_added_and_removed_periods(store: Store):
    v1 = store.series.save_series(META, monthly([1.0, 2.0, 3.0]))
    v2 = store.series.save_series(META, monthly([1.0, 2.2, np.nan, 4.0]))
    rev = store.series.revisions(META.series_id, v1.vintage_id, v2.vintage_id)
    assert list(rev.columns) == ["ds", "old", "new"]
    assert [str(p) for p in rev["ds"]] == ["2021-02", "2021-03", "2021-04"]
    assert rev["old"].tolist()[:2] == [2.0, 3.0] and np.isnan(rev["old"].iloc[2])
    assert rev["new"].iloc[0] == 2.2 and np.isnan(rev["new"].iloc[1]) and rev["new"].iloc[2] == 4.0


def test_revisions_with_foreign_vintage_raises(store: Store):
    v1 = store.series.save_series(META, monthly([1.0]))
    other = store.series.save_series(SeriesMeta("other", frequency="monthly"), monthly([1.0]))
    with pytest.raises(VintageNotFoundError, match="no vintage with id"):
        store.series.revisions(META.series_id, v1.vintage_id, other.vintage_id)


def test_gaps_stay_nan_and_edges_are_trimmed(store: Store):
    y = monthly([np.nan, 1.0, np.nan, np.nan, 4.0, np.nan])
    info = store.series.save_series(META, y)
    got = store.series.read_series(META.series_id).series
    assert info.n_obs == 2
    assert [str(p) for p in got.index] == ["2021-02", "2021-03", "2021-04", "2021-05"]
    assert got.isna().tolist() == [False, True, True, False]


def test_save_series_accepts_frames_with_period_strings_and_dates(store: Store):
    q = SeriesMeta("q", frequency="quarterly")
    store.series.save_series(q, pd.DataFrame({"ds": ["2023Q1", "2023-Q2", "2023Q4"], "y": [1, 2, 4]}))
    got = store.series.read_series("q").series
    assert got.index.freqstr.startswith("Q") and got.tolist()[:2] == [1.0, 2.0] and np.isnan(got.iloc[2])
    a = SeriesMeta("a", frequency="annual")
    store.series.save_series(a, pd.Series([5.0, 6.0], index=pd.to_datetime(["2020-12-31", "2021-06-30"])))
    assert [str(p) for p in store.series.read_series("a").series.index] == ["2020", "2021"]


def test_save_series_rejects_share_outside_unit_interval(store: Store):
    meta = SeriesMeta("share_cny", frequency="monthly", kind="share")
    with pytest.raises(IngestError, match=r"observation 2 \(y\): share 40 .* is outside \[0, 1\]") as err:
        store.series.save_series(meta, monthly([0.2, 40.0]))
    assert err.value.code == "share_out_of_range"
    with pytest.raises(SeriesNotFoundError):
        store.series.get_meta("share_cny")


def test_frequency_change_is_a_conflict(store: Store):
    store.series.save_series(META, monthly([1.0, 2.0]))
    annual = SeriesMeta(META.series_id, frequency="annual")
    with pytest.raises(ConflictError, match="stored as monthly"):
        store.series.save_series(annual, pd.Series([1.0], index=pd.period_range("2020", periods=1, freq="Y")))
    assert len(store.series.list_vintages(META.series_id)) == 1


def test_reupload_merges_metadata_and_keeps_names(store: Store):
    store.series.save_series(SeriesMeta("x", name="Nice name", unit="USD bn", tags={"flow": "export"}), monthly([1.0]))
    store.series.save_series(SeriesMeta("x", tags={"source": "GACC"}), monthly([2.0]))
    meta = store.series.get_meta("x")
    assert meta.name == "Nice name" and meta.unit == "USD bn"
    assert meta.tags == {"flow": "export", "source": "GACC"}
    assert store.series.list_series(tags={"source": "GACC"})[1] == 1


def test_skip_unchanged_writes_no_new_vintage_for_identical_data(store: Store):
    first = store.series.save_series(META, monthly([1.0, 2.0]))
    again = store.series.save_series(META, monthly([1.0, 2.0]), skip_unchanged=True)
    assert again.vintage_id == first.vintage_id
    changed = store.series.save_series(META, monthly([1.0, 2.1]), skip_unchanged=True)
    assert changed.number == 2
    assert store.series.save_series(META, monthly([1.0, 2.1])).number == 3  # default: every upload is a vintage


def test_list_series_filters_by_tags_and_pages(store: Store):
    for k in range(5):
        flow = "export" if k % 2 == 0 else "import"
        store.series.save_series(
            SeriesMeta(f"s{k}", frequency="monthly", tags={"flow": flow, "reporter": "CN"}), monthly([1.0])
        )
    page, total = store.series.list_series(tags={"flow": "export"}, limit=2, offset=0)
    assert total == 3 and [m.series_id for m in page] == ["s0", "s2"]
    page, total = store.series.list_series(tags={"flow": "export", "reporter": "CN"}, limit=2, offset=2)
    assert total == 3 and [m.series_id for m in page] == ["s4"]
    assert store.series.list_series(tags={"flow": "total"}) == ([], 0)
    assert store.series.list_series()[1] == 5


def test_delete_series_removes_vintages_but_keeps_forecasts(store: Store):
    info = store.series.save_series(META, monthly([1.0, 2.0, 3.0]))
    fid = store.archive.save_forecast(_record(META.series_id, info.vintage_id))
    store.series.delete_series(META.series_id)
    assert not store.series.has_series(META.series_id)
    with pytest.raises(SeriesNotFoundError):
        store.series.read_series(META.series_id)
    with pytest.raises(SeriesNotFoundError):
        store.series.delete_series(META.series_id)
    assert store.archive.get_forecast(fid).series_id == META.series_id
    with store.engine.connect() as conn:  # no orphaned observation rows
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM observations").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM vintages").scalar_one() == 0
    # the id can be reused: numbering starts again
    assert store.series.save_series(META, monthly([1.0])).number == 1


def test_series_not_found_maps_to_forecasting_not_found():
    assert issubclass(SeriesNotFoundError, NotFoundError)
    assert issubclass(IngestError, ValueError)
    assert SeriesNotFoundError.code == "series_not_found"


def _record(series_id, vintage_id, *, model="naive", index=None):
    index = index if index is not None else pd.period_range("2021-04", periods=3, freq="M", name="ds")
    frame = pd.DataFrame({MEAN: [3.0, 3.0, 3.0], lo_col(80): [2.0, 1.5, 1.0], hi_col(80): [4.0, 4.5, 5.0]}, index=index)
    frame.attrs["interval_method"] = "normal"
    return ForecastRecord(
        series_id=series_id,
        vintage_id=vintage_id,
        model=model,
        params={"season_length": np.int64(12), "levels": (80,)},
        horizon=3,
        levels=(80,),
        frame=frame,
    )


def test_forecast_archive_round_trips_frames(store: Store):
    info = store.series.save_series(META, monthly([1.0, 2.0, 3.0]))
    record = _record(META.series_id, info.vintage_id)
    fid = store.archive.save_forecast(record)
    assert len(fid) == 32 and record.forecast_id == fid and record.created_at is not None
    got = store.archive.get_forecast(fid)
    pd.testing.assert_frame_equal(got.frame, record.frame)
    assert got.frame.index.freqstr == "M" and got.frame.attrs["interval_method"] == "normal"
    assert got.params == {"season_length": 12, "levels": [80]}
    assert (got.series_id, got.vintage_id, got.model, got.horizon, got.levels) == (
        META.series_id,
        info.vintage_id,
        "naive",
        3,
        (80,),
    )


def test_inline_forecasts_are_archived_without_series(store: Store):
    index = pd.date_range("2024-01-31", periods=3, freq="ME", name="ds")
    record = _record(None, None, model="drift", index=index)
    record.params["data_sha256"] = "ab" * 32
    fid = store.archive.save_forecast(record)
    got = store.archive.get_forecast(fid)
    assert got.series_id is None and got.vintage_id is None
    pd.testing.assert_frame_equal(got.frame, record.frame)


def test_list_forecasts_filters_newest_first(store: Store):
    info = store.series.save_series(META, monthly([1.0, 2.0, 3.0]))
    first = store.archive.save_forecast(_record(META.series_id, info.vintage_id, model="naive"))
    cut = datetime.now(UTC)
    time.sleep(0.002)
    second = store.archive.save_forecast(_record(META.series_id, info.vintage_id, model="drift"))
    third = store.archive.save_forecast(_record(None, None, model="drift"))
    assert [r.forecast_id for r in store.archive.list_forecasts()] == [third, second, first]
    assert [r.forecast_id for r in store.archive.list_forecasts(META.series_id)] == [second, first]
    assert [r.forecast_id for r in store.archive.list_forecasts(model="drift", since=cut)] == [third, second]
    # Pages come from the database; the count ignores paging.
    assert [r.forecast_id for r in store.archive.list_forecasts(limit=2)] == [third, second]
    assert [r.forecast_id for r in store.archive.list_forecasts(limit=1, offset=1)] == [second]
    assert store.archive.list_forecasts(offset=3) == []
    assert store.archive.count_forecasts() == 3
    assert store.archive.count_forecasts(META.series_id) == 2
    assert store.archive.count_forecasts(model="drift", since=cut) == 2
    with pytest.raises(IngestError, match="limit and offset"):
        store.archive.list_forecasts(offset=-1)
    with pytest.raises(ForecastNotFoundError):
        store.archive.get_forecast("0" * 32)


def test_save_ingested_is_one_vintage_per_series(store: Store):
    result = load_series(b"unique_id,ds,y\na,2023-01,1\na,2023-02,2\nb,2023Q1,5\nb,2023Q2,6\n")
    infos = store.series.save_ingested(result, release="r1")
    assert [(i.series_id, i.number, i.n_obs, i.release) for i in infos] == [("a", 1, 2, "r1"), ("b", 1, 2, "r1")]
    assert store.series.get_meta("b").frequency == "quarterly"
    again = store.series.save_ingested(result, skip_unchanged=True)
    assert [(i.series_id, i.number, i.created) for i in again] == [("a", 1, False), ("b", 1, False)]


def test_write_conflict_after_repeated_races_raises_conflict_error(sqlite_store: Store, monkeypatch):
    def always_lose(conn, batch, release, published_at=None):
        raise IntegrityError("INSERT INTO vintages", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(series_repo, "_insert_batch", always_lose)
    monkeypatch.setattr(series_repo.time, "sleep", lambda s: None)
    with pytest.raises(ConflictError, match="after 5 attempts"):
        sqlite_store.series.save_series(META, monthly([1.0]))


def test_check_connection_raises_storage_unavailable_for_unreachable_database():
    store = Store.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    with pytest.raises(StorageUnavailableError, match="unavailable"):
        store.check_connection()
    with pytest.raises(StorageUnavailableError):
        store.series.list_series()
    store.dispose()


def test_check_connection_passes_on_a_live_store(store: Store):
    store.check_connection()


def test_create_schema_is_idempotent(store: Store):
    store.series.save_series(META, monthly([1.0]))
    store.create_schema()
    assert store.series.list_series()[1] == 1


# The alembic command in a fresh interpreter (20 s). In the fast suite: the migrations match the
# tables (test_migrations_match_the_table_definitions) and the upgrades of test_upgrade.py.
@pytest.mark.slow
def test_alembic_command_line_upgrades_the_database_given_with_x_url(tmp_path):
    import subprocess
    import sys

    from tests.data.conftest import REPO_ROOT

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    # data/ reads no environment: the variable the service uses must not steer the migrations.
    decoy = tmp_path / "decoy.db"
    env = {"TRADECAST_DATABASE_URL": f"sqlite:///{decoy}", "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic", "-c", "data/alembic.ini", "-x", f"url={url}", "upgrade", "head"]
    run = subprocess.run(alembic, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert not decoy.exists()
    store = Store.from_url(url)
    store.series.save_series(META, monthly([1.0]))
    assert store.series.read_series(META.series_id).series.tolist() == [1.0]
    store.dispose()


def test_save_ingested_checks_frames_built_by_hand(store: Store):
    from data import IngestResult

    periods = pd.PeriodIndex(["2023-01", "2023-02", "2023-01"], freq="M")
    dup = IngestResult(frame=pd.DataFrame({"unique_id": ["a", "a", "a"], "ds": periods, "y": [1.0, 2.0, 3.0]}))
    with pytest.raises(IngestError, match="series 'a': duplicate period 2023-01"):
        store.series.save_ingested(dup)
    empty = IngestResult(
        frame=pd.DataFrame({"unique_id": ["a", "b"], "ds": periods[:2], "y": [1.0, np.nan]}),
        metas={"a": SeriesMeta("a"), "b": SeriesMeta("b")},
    )
    with pytest.raises(IngestError, match="series 'b' has no values"):
        store.series.save_ingested(empty)
    share = IngestResult(
        frame=pd.DataFrame({"unique_id": ["s", "s"], "ds": periods[:2], "y": [0.5, 50.0]}),
        metas={"s": SeriesMeta("s", kind="share")},
    )
    with pytest.raises(IngestError, match=r"series 's' at 2023-02: share 50 for series 's' is outside") as err:
        store.series.save_ingested(share)
    assert err.value.code == "share_out_of_range"
    assert store.series.list_series() == ([], 0)


def test_migrations_match_the_table_definitions(sqlite_store: Store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from data.tables import metadata

    ours = set(metadata.tables)  # every table of the product, reports and jobs included
    with sqlite_store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    def table_of(diff):
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ours:
                return name
        return item[2] if len(item) > 2 and isinstance(item[2], str) else None

    relevant = [d for d in diffs if table_of(d) in ours]
    assert relevant == []


def test_save_series_refuses_periods_of_another_frequency(store: Store):
    quarterly = pd.Series([1.0, 2.0], index=pd.period_range("2023Q1", periods=2, freq="Q"))
    with pytest.raises(IngestError, match="period '2023Q1' is quarterly but series .* was declared monthly") as err:
        store.series.save_series(META, quarterly)
    assert err.value.code == "mixed_frequency"
    with pytest.raises(IngestError, match="observation 1 \\(y\\): non-numeric value 'abc'") as err:
        store.series.save_series(META, pd.DataFrame({"ds": ["2023-01"], "y": ["abc"]}))
    assert err.value.code == "non_numeric_value"
    text = store.series.save_series(META, pd.DataFrame({"ds": ["2023-01"], "y": ["1.1247634253522847"]}))
    assert store.series.read_series(META.series_id, vintage_id=text.vintage_id).series.iloc[0] == 1.1247634253522847


def test_store_is_a_context_manager(tmp_path):
    with Store.from_url(f"sqlite:///{tmp_path / 'cm.db'}") as store:
        store.create_schema()
        store.series.save_series(META, monthly([1.0]))
        assert store.series.list_series()[1] == 1


def test_store_passes_no_repository_method_through(store: Store):
    """The facade owns the database and its repositories and nothing else: no method of a
    repository is repeated on ``Store`` (the 17 pass-throughs it had, e.g. ``save_series``,
    ``read_series``, ``get_meta``, ``resolve_vintage``, ``save_forecast``, are called on the
    repository), so there is one way to call each."""
    repositories = {
        "series": store.series,
        "archive": store.archive,
        "jobs": store.jobs,
        "progress": store.progress,
        "structures": store.structures,
        "sources": store.sources,
    }
    for name, repo in repositories.items():
        methods = {m for m in dir(type(repo)) if not m.startswith("_") and callable(getattr(repo, m))}
        assert methods, name
        assert not {m for m in methods if hasattr(Store, m)}, f"Store passes store.{name} methods through"
    for dropped in ("save_series", "read_series", "get_meta", "resolve_vintage", "list_vintages", "save_forecast"):
        assert not hasattr(store, dropped), dropped
        assert callable(getattr(store.series, dropped, None) or getattr(store.archive, dropped, None))
