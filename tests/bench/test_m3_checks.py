"""The M3 interval acceptance checks (bench.m3.interval_checks) on a hand-made score table."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.m3 import interval_checks
from forecasting.exceptions import InvalidParameterError


def _scores() -> pd.DataFrame:
    rows = {
        # yearly: inside both bounds and below both references; other: 95% fine, but MSIS above ETS's.
        "auto": {"cov80_yearly": 79.9, "cov95_yearly": 94.4, "msis80_yearly": 13.3, "msis95_yearly": 21.9,
                 "cov80_other": 79.4, "cov95_other": 95.1, "msis80_other": 8.73, "msis95_other": 13.56},
        "ets": {"cov80_yearly": 70.5, "cov95_yearly": 83.6, "msis80_yearly": 14.5, "msis95_yearly": 28.7,
                "cov80_other": 81.0, "cov95_other": 94.0, "msis80_other": 8.61, "msis95_other": 13.27},
        "arima": {"cov80_yearly": 64.5, "cov95_yearly": 79.3, "msis80_yearly": 17.4, "msis95_yearly": 40.1,
                  "cov80_other": 84.7, "cov95_other": 94.0, "msis80_other": 9.51, "msis95_other": 14.82},
        "theta": {"smape_yearly": 16.9},
    }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")


def test_checks_pass_and_fail_per_period():
    checks = interval_checks(_scores())
    assert list(checks.index) == ["yearly", "other"]
    assert checks.at["yearly", "ok"]
    assert not checks.at["other", "ok"]
    assert checks.at["other", "cov80_ok"] and checks.at["other", "cov95_ok"]
    assert not checks.at["other", "msis95_below_ets"]
    assert checks.at["other", "msis95_below_arima"]
    assert checks.at["other", "msis95_vs_ets"] == pytest.approx(13.56 - 13.27)


def test_coverage_out_of_bounds_fails_even_without_references():
    scores = _scores().drop(index=["ets", "arima"])
    scores.loc["auto", "cov80_yearly"] = 84.4
    checks = interval_checks(scores)
    assert not checks.at["yearly", "cov80_ok"] and not checks.at["yearly", "ok"]
    assert checks.at["other", "ok"]
    assert not any(c.startswith("msis") for c in checks.columns)


def test_bounds_are_inclusive():
    scores = _scores()
    scores.loc["auto", ["cov80_yearly", "cov95_yearly"]] = [77.0, 97.0]
    assert interval_checks(scores).at["yearly", "ok"]


def test_unknown_model_is_an_error():
    with pytest.raises(InvalidParameterError, match="no scores for model 'xx'"):
        interval_checks(_scores(), model="xx")
