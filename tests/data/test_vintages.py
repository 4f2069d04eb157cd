"""Publication dates: as_of by published_at (falling back to the stored time), no new vintage for
identical data, and the diff of two vintages; on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from data import Store, VintageNotFoundError
from data.meta import SeriesMeta, current_vintage

META = SeriesMeta("cn_ru_total", frequency="annual", unit="USD bn")


def annual(values: dict[int, float]) -> pd.Series:
    index = pd.PeriodIndex([pd.Period(str(y), freq="Y") for y in values], freq="Y")
    return pd.Series(list(values.values()), index=index, dtype=float)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_as_of_reads_by_publication_date_loaded_out_of_order(store: Store):
    # Releases loaded today, newest first: the publication date decides, not the upload order.
    r2024 = store.series.save_series(META, annual({2022: 190.27, 2023: 240.11}), published_at=when("2024-01-12"))
    r2023 = store.series.save_series(META, annual({2022: 190.27}), published_at=when("2023-01-13"))
    assert r2024.published_at == when("2024-01-12") and r2023.number == 2
    assert store.series.read_series(META.series_id, as_of=when("2023-06-01")).vintage.vintage_id == r2023.vintage_id
    assert store.series.read_series(META.series_id, as_of=when("2024-01-12")).vintage.vintage_id == r2024.vintage_id
    assert store.series.read_series(META.series_id).vintage.vintage_id == r2024.vintage_id
    with pytest.raises(VintageNotFoundError):
        store.series.read_series(META.series_id, as_of=when("2023-01-01"))


def test_vintage_without_published_at_counts_from_its_stored_time(store: Store):
    old = store.series.save_series(META, annual({2022: 190.27}), published_at=when("2023-01-13"))
    now = store.series.save_series(META, annual({2022: 190.3, 2023: 240.11}))  # no publication date
    assert now.published_at is None and now.effective_at == now.created_at
    assert store.series.read_series(META.series_id).vintage.vintage_id == now.vintage_id
    assert store.series.read_series(META.series_id, as_of=when("2025-01-01")).vintage.vintage_id == old.vintage_id


def test_identical_data_makes_no_new_vintage(store: Store):
    first = store.series.save_series(META, annual({2022: 190.27}), published_at=when("2023-01-13"), skip_unchanged=True)
    again = store.series.save_series(META, annual({2022: 190.27}), published_at=when("2023-02-01"), skip_unchanged=True)
    assert first.created and not again.created and again.vintage_id == first.vintage_id
    assert len(store.series.list_vintages(META.series_id)) == 1
    # Identical to the vintage current at an EARLIER date? Nothing was published then: stored.
    earlier = store.series.save_series(
        META, annual({2022: 190.27}), published_at=when("2022-06-01"), skip_unchanged=True
    )
    assert earlier.created and len(store.series.list_vintages(META.series_id)) == 2


def test_diff_vintages_added_removed_changed(store: Store):
    a = store.series.save_series(META, annual({2020: 107.76, 2021: 146.887, 2022: 190.27}))
    b = store.series.save_series(META, annual({2021: 146.9, 2022: 190.27, 2023: 240.11}))
    diff = store.series.diff_vintages(META.series_id, a.vintage_id, b.vintage_id)
    assert diff["ds"].astype(str).tolist() == ["2020", "2021", "2023"]
    assert diff["change"].tolist() == ["removed", "changed", "added"]
    assert diff["old"].tolist()[:2] == [107.76, 146.887] and np.isnan(diff["old"].iloc[2])
    assert np.isnan(diff["new"].iloc[0]) and diff["new"].tolist()[1:] == [146.9, 240.11]


def test_diff_of_unknown_vintage_is_not_found(store: Store):
    a = store.series.save_series(META, annual({2020: 1.0}))
    with pytest.raises(VintageNotFoundError):
        store.series.diff_vintages(META.series_id, a.vintage_id, a.vintage_id + 999)


def test_current_vintage_orders_by_effective_time_then_number(store: Store):
    a = store.series.save_series(META, annual({2020: 1.0}), published_at=when("2024-01-01"))
    b = store.series.save_series(META, annual({2020: 2.0}), published_at=when("2024-01-01"))
    vintages = store.series.list_vintages(META.series_id)
    assert current_vintage(vintages).vintage_id == b.vintage_id
    assert current_vintage(vintages, datetime(2024, 1, 1)).vintage_id == b.vintage_id  # naive = UTC
    assert current_vintage(vintages, when("2023-12-31")) is None
    assert a.number == 1


def test_vintage_history_is_in_publication_order(store: Store):
    store.series.save_series(META, annual({2022: 190.27, 2023: 240.11}), published_at=when("2024-01-12"))
    store.series.save_series(META, annual({2022: 190.27}), published_at=when("2023-01-13"))
    history = store.series.vintage_history(META.series_id)
    assert [h.vintage.number for h in history] == [2, 1]
    assert [len(h.series) for h in history] == [1, 2]
    assert history[1].series.index.astype(str).tolist() == ["2022", "2023"]
