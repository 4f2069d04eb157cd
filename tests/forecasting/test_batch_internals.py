"""How a batch cuts its frame into tasks and joins the rows that come back (forecasting.batch)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from forecasting.batch import _Batch, _Rows
from forecasting.exceptions import InvalidDriversError, InvalidSeriesError


def _frame() -> pd.DataFrame:
    ds = pd.period_range("2020-01", periods=4, freq="M")
    rows = [("b", d, float(i)) for i, d in enumerate(ds)] + [("a", d, 10.0 + i) for i, d in enumerate(ds[::-1])]
    rows.insert(2, (None, ds[0], 99.0))  # belongs to no series
    rows.insert(3, ("a", ds[0] - 1, 9.0))  # a's rows are interleaved with b's and out of order
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


def test_chunks_carry_each_series_rows_in_order_of_first_appearance():
    batch = _Batch(_frame())
    assert batch.uids == ["b", "a"] and batch.n_series == 2
    chunks = list(batch.chunks(1))
    assert [c.uids for c in chunks] == [("b",), ("a",)]
    ((_, a, _),) = list(chunks[1].items())
    assert list(a.index.astype(str)) == ["2019-12", "2020-01", "2020-02", "2020-03", "2020-04"]
    assert a.tolist() == [9.0, 13.0, 12.0, 11.0, 10.0]


def test_a_chunk_pickles_as_a_few_arrays_not_one_object_per_series():
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{i}", "ds": pd.period_range("2000-01", periods=120, freq="M"), "y": 1.0 * i})
            for i in range(64)
        ]
    )
    (chunk,) = list(_Batch(frame).chunks(64))
    series = [y for _, y, _ in chunk.items()]
    assert len(pickle.dumps(chunk)) < len(pickle.dumps(series)) / 1.5


def test_a_series_whose_dates_cannot_be_read_comes_with_its_error():
    frame = pd.DataFrame(
        {"unique_id": ["x", "x", "x"], "ds": ["2020-01-31", "soon", "2020-03-31"], "y": [1.0, 2.0, 3.0]}
    )
    ((uid, y, _),) = next(iter(_Batch(frame).chunks(4))).items()
    assert uid == "x" and isinstance(y, InvalidSeriesError) and "'x'" in str(y)


def test_driver_rows_follow_their_series_and_a_series_without_them_gets_an_error():
    frame = _frame()
    drivers = pd.DataFrame(
        {"unique_id": ["a", "a"], "ds": pd.period_range("2020-05", periods=2, freq="M"), "oil": [1.0, 2.0]}
    )
    items = {uid: d for chunk in _Batch(frame, drivers=drivers).chunks(2) for uid, _, d in chunk.items()}
    assert items["a"].table is not None and items["a"].table["oil"].tolist() == [1.0, 2.0]
    assert isinstance(items["b"].error, InvalidDriversError)


def test_rows_join_pieces_in_key_order_like_concat():
    one = pd.DataFrame(
        {"unique_id": ["s1"] * 2, "ds": pd.period_range("2021-01", periods=2, freq="M"), "mean": [1.0, 2.0]}
    )
    two = one.assign(unique_id="s2", mean=[3.0, 4.0], lo_80=[0.0, 1.0])
    rows = _Rows()
    rows.add((1, 0), two)
    rows.add((0, 0), one)
    got = rows.frame()
    want = pd.concat([one, two], ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    assert len(rows) == 0  # the pieces were handed over, not kept


def test_rows_copy_numbers_out_of_the_chunk_frame():
    frame = pd.DataFrame({"unique_id": ["s"] * 3, "mean": [1.0, 2.0, 3.0], "hi_80": [2.0, 3.0, 4.0]})
    rows = _Rows()
    rows.add((0, 0), frame)
    got = rows.frame()
    assert not np.shares_memory(got["mean"].to_numpy(), frame["mean"].to_numpy())
    assert got._mgr.nblocks == 3  # one block per column: joining did not copy them into one again
    with pytest.raises(KeyError):
        got["lo_80"]
