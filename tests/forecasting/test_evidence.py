"""Thin-evidence warnings: few observations, sparse publications, backtest coverage far from nominal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.evidence import (
    CoverageCheck,
    check_coverage,
    evidence_warnings,
    min_evidence,
    warn_backtest_coverage,
)
from forecasting.exceptions import BacktestCoverageWarning, SparseSeriesWarning, ThinEvidenceWarning
from forecasting.executor import capture_warnings
from forecasting.frames import CUTOFF, MEAN, MODEL, Y, hi_col, lo_col
from forecasting.testing import make_series

#: Share of Russia's export settlements in yuan, the 8 published months of
#: data/samples/ru_settlement_currency_shares.csv (Bank of Russia, via the sources named there).
_YUAN = {
    "2022-01": 0.005,
    "2022-03": 0.015,
    "2022-09": 0.14,
    "2022-12": 0.16,
    "2023-03": 0.18,
    "2023-05": 0.25,
    "2023-06": 0.25,
    "2024-01": 0.408,
}


def _yuan() -> pd.Series:
    index = pd.period_range("2022-01", "2024-01", freq="M")
    y = pd.Series(np.nan, index=index, name="ru_export_settlement_share_cny")
    for ds, v in _YUAN.items():
        y[pd.Period(ds, freq="M")] = v
    return y


def _codes(notes) -> list[str]:
    return [n.code for n in notes]


def test_min_evidence_is_two_seasons_or_twelve_points():
    assert (min_evidence(1), min_evidence(4), min_evidence(12)) == (12, 12, 24)


def test_sparse_yuan_share_warns_sparse_and_thin_from_forecast():
    with capture_warnings() as notes:
        fc = forecasting.forecast(_yuan(), 3, kind="share", missing="model", model="structural")
    assert len(fc) == 3
    by_code = {n.code: n.message for n in notes}
    assert "based on 8 published months" in by_code["thin_evidence"]
    assert "band reflects model uncertainty only if the model is right" in by_code["thin_evidence"]
    assert "8 published months out of the 25" in by_code["sparse_series"]


def test_long_complete_series_has_no_evidence_warning():
    assert evidence_warnings(make_series("M", 60)) == []
    assert evidence_warnings(make_series("Y", 12, seasonal=False)) == []


@pytest.mark.parametrize(
    ("freq", "n", "warned"), [("Y", 11, True), ("Y", 12, False), ("M", 23, True), ("M", 24, False)]
)
def test_thin_evidence_threshold_per_frequency(freq, n, warned):
    found = [type(w) for w in evidence_warnings(make_series(freq, n))]
    assert (ThinEvidenceWarning in found) is warned


def test_few_gaps_are_not_a_sparse_publication():
    y = make_series("M", 60)
    y.iloc[[10, 20, 30]] = np.nan
    assert not any(isinstance(w, SparseSeriesWarning) for w in evidence_warnings(y))


def test_outlook_and_simulate_emit_thin_evidence_too():
    y = make_series("Y", 8, seasonal=False)
    with pytest.warns(ThinEvidenceWarning, match="8 published years"):
        forecasting.forecast_outlook(y, 2, model="naive")
    with pytest.warns(ThinEvidenceWarning):
        forecasting.simulate(y, 2, n_paths=20, model="naive")


def _backtest_frame(covered: int, outcomes: int, level: int = 80) -> pd.DataFrame:
    inside = np.arange(outcomes) < covered
    y = np.where(inside, 1.0, 5.0)
    return pd.DataFrame(
        {
            MODEL: "auto",
            CUTOFF: pd.Period("2020", freq="Y"),
            MEAN: np.ones(outcomes),
            lo_col(level): np.zeros(outcomes),
            hi_col(level): np.full(outcomes, 2.0),
            Y: y,
        }
    )


def test_coverage_far_below_nominal_warns_with_counts():
    frame = _backtest_frame(covered=4, outcomes=9)
    (check,) = check_coverage(frame)
    assert check == CoverageCheck("auto", 80, 4, 9, pytest.approx(np.sqrt(0.8 * 0.2 / 9)))
    with pytest.warns(BacktestCoverageWarning, match=r"80% intervals covered 4 of 9 outcomes \(44%\)"):
        warn_backtest_coverage(frame)


@pytest.mark.parametrize(("covered", "outcomes"), [(6, 9), (3, 4)])
def test_coverage_within_two_standard_errors_or_few_outcomes_does_not_warn(covered, outcomes):
    assert not any(c.is_far for c in check_coverage(_backtest_frame(covered, outcomes)))


def test_backtest_of_overconfident_model_warns():
    # A steep line with tiny noise: naive's band (from the tiny noise) misses every outcome.
    t = np.arange(30, dtype=float)
    y = pd.Series(10.0 + 5.0 * t + 0.01 * np.sin(t), index=pd.period_range("1990", periods=30, freq="Y"), name="s")
    with pytest.warns(BacktestCoverageWarning, match="backtest of 'naive'"):
        forecasting.backtest(y, horizon=3, windows=3, models=("naive",))
