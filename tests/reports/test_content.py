"""Report content: backtest accuracy, scoring of past forecasts, failed series."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import metrics
from forecasting.validation import infer_season_length
from reports.content import (
    ISSUED_AT,
    accuracy_from_backtest,
    compute_section,
    score_past_forecasts,
)
from tests.reports.conftest import monthly_series


def _archived(periods: list[str], means: list[float], half80: float, half95: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ISSUED_AT: [datetime(2023, 6, 1)] * len(periods),
            "model": "drift",
            "ds": pd.PeriodIndex(periods, freq="M"),
            "mean": means,
            "lo_80": [m - half80 for m in means],
            "hi_80": [m + half80 for m in means],
            "lo_95": [m - half95 for m in means],
            "hi_95": [m + half95 for m in means],
        }
    )


def test_past_forecasts_are_scored_against_arrived_actuals_only() -> None:
    y = pd.Series([10.0, 12.0, 14.0], index=pd.period_range("2023-06", periods=3, freq="M"))
    archived = _archived(["2023-07", "2023-08", "2023-09"], [11.0, 20.0, 15.0], half80=1.5, half95=7.0)
    rows, summary = score_past_forecasts(archived, y, (80, 95))
    assert [r.period for r in rows] == ["2023-07", "2023-08"]  # 2023-09 has no actual yet
    assert rows[0].error == pytest.approx(1.0)
    assert rows[0].inside == {80: True, 95: True}
    assert rows[1].error == pytest.approx(-6.0)
    assert rows[1].inside == {80: False, 95: True}
    assert summary is not None
    assert summary.n == 2
    assert summary.mae == pytest.approx(3.5)
    assert summary.coverage == {80: 0.5, 95: 1.0}


def test_past_forecasts_with_string_periods_are_matched() -> None:
    y = pd.Series([10.0, 12.0], index=pd.period_range("2023Q1", periods=2, freq="Q"))
    archived = _archived(["2023-01"], [9.0], 0.5, 2.0).assign(ds=["2023Q2"])
    rows, _ = score_past_forecasts(archived, y, (80,))
    assert len(rows) == 1 and rows[0].actual == 12.0 and rows[0].inside == {80: False}


def test_no_archive_gives_no_rows() -> None:
    rows, summary = score_past_forecasts(pd.DataFrame(), monthly_series(), (80,))
    assert rows == [] and summary is None


def test_accuracy_from_backtest_matches_metrics_by_hand() -> None:
    y = monthly_series(48)
    bt = forecasting.backtest(y, horizon=3, windows=2, models=("drift",), levels=(80,))
    acc = accuracy_from_backtest(bt, y, (80,), model="drift")
    expected = []
    for cutoff, window in bt.groupby("cutoff"):
        expected.append(metrics.mase(window["y"], window["mean"], y.loc[:cutoff].to_numpy(), season_length=12))
    assert acc.windows == 2 and acc.horizon == 3
    assert acc.mase == pytest.approx(np.mean(expected))
    assert acc.smape == pytest.approx(np.mean([metrics.smape(w["y"], w["mean"]) for _, w in bt.groupby("cutoff")]))
    assert acc.coverage[80] == pytest.approx(metrics.coverage(bt["y"], bt["lo_80"], bt["hi_80"]))


def test_season_length_follows_frequency() -> None:
    assert infer_season_length(pd.period_range("2020-01", periods=3, freq="M")) == 12
    assert infer_season_length(pd.period_range("2020Q1", periods=3, freq="Q")) == 4
    assert infer_season_length(pd.period_range("2020", periods=3, freq="Y")) == 1


def test_compute_section_has_forecast_rows_accuracy_and_history() -> None:
    y = monthly_series(60)
    section = compute_section("s", y, horizon=6, levels=(80, 95), model="drift", backtest_windows=3)
    assert section.ok
    assert len(section.forecasts) == 6 and section.forecasts[0].period == "2024-01"
    for row in section.forecasts:
        assert row.bounds[95][0] <= row.bounds[80][0] <= row.mean <= row.bounds[80][1] <= row.bounds[95][1]
    assert section.accuracy is not None and section.accuracy.windows == 3
    assert len(section.history_values) == 60 and section.last_period == "2023-12"


def test_compute_section_short_series_becomes_failed_section_not_exception() -> None:
    section = compute_section("s", monthly_series(2), horizon=3, levels=(80,), model="drift")
    assert not section.ok
    assert "InsufficientDataError" in section.error


def test_compute_section_reduces_backtest_windows_for_short_series() -> None:
    section = compute_section("s", monthly_series(8), horizon=3, levels=(80,), model="drift", backtest_windows=5)
    assert section.ok
    assert section.accuracy is not None and section.accuracy.windows < 5
    assert "backtest window" in section.accuracy_note
