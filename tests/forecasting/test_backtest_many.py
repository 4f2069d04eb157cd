"""backtest_many: rolling-origin evaluation of many series on the executor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import backtest, backtest_many
from forecasting.exceptions import FallbackWarning, ForecastingError, InvalidParameterError


def _long(lengths: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    parts = []
    for uid, n in lengths.items():
        ds = pd.period_range("2015-01", periods=n, freq="M")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": 50 + rng.normal(0, 1, n).cumsum()}))
    return pd.concat(parts, ignore_index=True)


def test_backtest_many_equals_each_series_backtest_in_frame_order():
    frame = _long({"b": 40, "a": 36, "c": 30})
    got = backtest_many(frame, 3, 2, models=("naive", "drift"), levels=(80,), n_jobs=1, chunk_size=2)
    assert list(dict.fromkeys(got["unique_id"])) == ["b", "a", "c"]
    for uid, part in frame.groupby("unique_id"):
        y = pd.Series(part["y"].to_numpy(), index=pd.PeriodIndex(part["ds"]), name=uid)
        expected = backtest(y, 3, 2, models=("naive", "drift"), levels=(80,))
        mine = got[got["unique_id"] == uid].drop(columns="unique_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, expected.reset_index(drop=True))


def test_a_series_too_short_is_left_out_with_a_warning_naming_it():
    frame = _long({"long": 40, "tiny": 4})
    with pytest.warns(FallbackWarning, match="tiny"):
        got = backtest_many(frame, 3, 3, models=("naive",), n_jobs=1)
    assert set(got["unique_id"]) == {"long"}


def test_backtest_many_refuses_bad_arguments_and_an_all_failed_batch():
    with pytest.raises(InvalidParameterError, match="unique_id, ds, y"):
        backtest_many(pd.DataFrame({"x": [1]}), 3, 2)
    with pytest.raises(InvalidParameterError, match="backend"):
        backtest_many(_long({"a": 30}), 3, 2, backend="spark")
    with pytest.warns(FallbackWarning), pytest.raises(ForecastingError, match="no series"):
        backtest_many(_long({"tiny": 4}), 3, 3, models=("naive",), n_jobs=1)
