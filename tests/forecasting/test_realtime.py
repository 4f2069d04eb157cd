"""Real-time backtests: each vintage forecast as published, scored against the latest figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import InvalidParameterError
from forecasting.realtime import pseudo_vintages, realtime_backtest, score_realtime


def annual(values: list[float], start: int = 2010) -> pd.Series:
    return pd.Series(values, index=pd.period_range(str(start), periods=len(values), freq="Y"), dtype=float)


LATEST = annual([10.0, 11.0, 12.5, 13.0, 15.0, 16.0])
# Published first as 10.0, 11.0, 12.0 (2012 later revised to 12.5), then one year at a time.
VINTAGES = [
    ("2013-01", annual([10.0, 11.0, 12.0])),
    ("2014-01", annual([10.0, 11.0, 12.5, 13.0])),
    ("2015-01", annual([10.0, 11.0, 12.5, 13.0, 15.0])),
]


def test_each_vintage_is_forecast_from_its_own_figures():
    result = realtime_backtest(VINTAGES, LATEST, horizon=2, models=["naive"], levels=(80,))
    frame = result.frame
    assert frame["vintage"].tolist() == ["2013-01", "2013-01", "2014-01", "2014-01", "2015-01", "2015-01"]
    # naive repeats the last published figure: 12.0 as published in 2013, not the revised 12.5
    assert frame["mean"].tolist() == [12.0, 12.0, 13.0, 13.0, 15.0, 15.0]
    assert frame["cutoff"].astype(str).tolist() == ["2012", "2012", "2013", "2013", "2014", "2014"]
    assert frame["h"].tolist() == [1, 2] * 3
    assert frame["y"].tolist()[:5] == [13.0, 15.0, 15.0, 16.0, 16.0] and np.isnan(frame["y"].iloc[5])
    assert list(frame.columns) == ["vintage", "model", "cutoff", "ds", "h", "mean", "lo_80", "hi_80", "y"]


def test_scores_against_the_latest_and_pseudo_real_time_differs_by_revisions():
    real = score_realtime(realtime_backtest(VINTAGES, LATEST, 1, models=["naive"], levels=(80,)).frame)
    pseudo_v = pseudo_vintages(VINTAGES, LATEST)
    pseudo = score_realtime(realtime_backtest(pseudo_v, LATEST, 1, models=["naive"], levels=(80,)).frame)
    # errors h=1: real 13-12, 15-13, 16-15 -> mae 4/3; pseudo 13-12.5, 15-13, 16-15 -> mae 3.5/3
    assert real.loc[0, "n"] == 3 and real.loc[0, "mae"] == pytest.approx(4 / 3)
    assert pseudo.loc[0, "mae"] == pytest.approx(3.5 / 3)
    assert 0.0 <= real.loc[0, "coverage_80"] <= 1.0


def test_short_vintages_are_skipped_with_the_reason():
    vintages = [("early", annual([10.0])), *VINTAGES]
    result = realtime_backtest(vintages, LATEST, 1, models=["naive", "drift"], levels=())
    assert ("early", "naive: y has 1 observation(s); at least 2 are needed.") in result.skipped
    assert "early" not in set(result.frame["vintage"])
    common = score_realtime(result.frame, common=True)
    assert set(common["n"]) == {3}


def test_gaps_fit_on_the_latest_unbroken_stretch():
    gappy = annual([10.0, np.nan, 12.0, 13.0, 14.0])
    frame = realtime_backtest([("v", gappy)], LATEST, 1, models=["drift"], levels=()).frame
    assert frame["mean"].iloc[0] == pytest.approx(15.0)  # drift over 2012-2014 only


def test_bad_input_is_refused():
    with pytest.raises(InvalidParameterError, match="at least one vintage"):
        realtime_backtest([], LATEST, 1)
    quarterly = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2020Q1", periods=3, freq="Q"))
    with pytest.raises(InvalidParameterError, match="vintage 'q' has frequency 'Q-DEC'"):
        realtime_backtest([("q", quarterly)], LATEST, 1)
    with pytest.raises(InvalidParameterError):
        realtime_backtest(VINTAGES, LATEST, 0)
