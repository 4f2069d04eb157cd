"""Property: whatever valid series go in through a file come back unchanged from the store."""

from __future__ import annotations

import datetime as dt
import io
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import Store, load_series
from tests.data.conftest import REPO_ROOT

FREQS = {"annual": "Y", "quarterly": "Q", "monthly": "M"}


@st.composite
def series_sets(draw):
    frequency = draw(st.sampled_from(sorted(FREQS)))
    n_series = draw(st.integers(1, 4))
    out = {}
    for k in range(n_series):
        n = draw(st.integers(1, 30))
        start = draw(st.integers(1990, 2020))
        values = draw(
            st.lists(
                st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
                min_size=n,
                max_size=n,
            )
        )
        if all(v is None for v in values):
            values[0] = 1.0
        index = pd.period_range(str(start), periods=n, freq=FREQS[frequency])
        out[f"s{k}"] = pd.Series([np.nan if v is None else v for v in values], index=index, dtype=float)
    return frequency, out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=series_sets(), spelling=st.sampled_from(["canonical", "dashed"]))
def test_csv_round_trip_through_the_store(tmp_path_factory, data, spelling):
    frequency, series = data
    lines = ["unique_id,ds,y"]
    for sid, y in series.items():
        for period, value in y.items():
            text = str(period)
            if spelling == "dashed" and frequency == "quarterly":
                text = text.replace("Q", "-Q")
            lines.append(f"{sid},{text},{'' if np.isnan(value) else repr(value)}")
    result = load_series(("\n".join(lines) + "\n").encode())
    store = Store.from_url(f"sqlite:///{tmp_path_factory.mktemp('rt') / 's.db'}")
    store.create_schema()
    try:
        store.series.save_ingested(result)
        for sid, y in series.items():
            got = store.series.read_series(sid).series
            expected = y.loc[y.first_valid_index() : y.last_valid_index()]
            np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
            assert list(got.index) == list(expected.index)
            assert store.series.get_meta(sid).frequency == frequency
    finally:
        store.dispose()


def test_xlsx_date_cells_become_periods():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["date", "cn_ru_trade"])
    for month, value in ((1, 18.0), (2, 19.5), (3, 20.1)):
        ws.append([dt.datetime(2023, month, 28), value])
    buf = io.BytesIO()
    book.save(buf)
    result = load_series(buf.getvalue(), format="xlsx")
    assert result.metas["cn_ru_trade"].frequency == "monthly"
    assert [str(p) for p in result.frame.ds] == ["2023-01", "2023-02", "2023-03"]


# The bench script in a fresh interpreter (20 s); the round trip itself is the property test above.
@pytest.mark.slow
def test_bench_script_runs_on_a_small_case(tmp_path):
    import subprocess

    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        "bench/store_ingest.py",
        "--series",
        "50",
        "--months",
        "24",
        "--reads",
        "20",
        "--out",
        str(out),
    ]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "ingest total" in run.stdout and "read one series at a past vintage" in run.stdout
    assert out.exists()
