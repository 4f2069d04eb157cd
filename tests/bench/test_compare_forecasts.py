"""``bench.compare_forecasts``: the check that a change leaves the M3 forecasts unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.compare_forecasts import compare_forecasts, main


def _forecasts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["auto"] * 3 + ["ets"] * 3,
            "unique_id": ["N1", "N1", "N2"] * 2,
            "h": [1, 2, 1] * 2,
            "y": 1.0,
            "mean": np.arange(6.0),
            "lo_80": np.arange(6.0) - 1,
            "hi_80": np.arange(6.0) + 1,
        }
    )


def test_identical_files_pass(tmp_path):
    old = _forecasts()
    new = old.sample(frac=1.0, random_state=0)  # row order does not matter
    result = compare_forecasts(old, new)
    assert result.ok and result.rows == 6 and result.missing == 0
    assert float(result.max_abs.to_numpy().max()) == 0.0
    old.to_csv(tmp_path / "old.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main([str(tmp_path / "old.csv"), str(tmp_path / "new.csv")]) == 0


def test_a_difference_above_the_tolerance_fails_and_is_located(tmp_path):
    old, new = _forecasts(), _forecasts()
    new.loc[4, "hi_80"] += 1e-6
    result = compare_forecasts(old, new, tol=1e-9)
    assert not result.ok
    assert result.max_abs.at["ets", "hi_80"] == pytest.approx(1e-6)
    assert result.max_abs.at["auto", "hi_80"] == 0.0
    assert compare_forecasts(old, new, tol=1e-5).ok
    old.to_csv(tmp_path / "old.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main([str(tmp_path / "old.csv"), str(tmp_path / "new.csv"), "--tol", "1e-9"]) == 1


def test_missing_rows_and_one_sided_nan_fail():
    old = _forecasts()
    assert compare_forecasts(old, old.iloc[:-1]).missing == 1
    assert not compare_forecasts(old, old.iloc[:-1]).ok
    nan = old.copy()
    nan.loc[0, "mean"] = np.nan
    assert not compare_forecasts(old, nan).ok
    assert compare_forecasts(nan, nan.copy()).ok  # NaN on both sides agrees
