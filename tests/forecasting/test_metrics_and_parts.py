"""Metrics against hand-computed values; seasonality test; mixture quantiles; naive references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from forecasting import metrics
from forecasting.ensemble import mixture_quantiles
from forecasting.intervals import WidthCalibration, apply_width_factors, load_calibration
from forecasting.models.naive import Drift, Naive, Naive2, SeasonalNaive
from forecasting.seasonality import is_seasonal, seasonal_indices
from forecasting.testing import make_series


def test_smape_matches_m3_definition():
    y, f = np.array([100.0, 200.0]), np.array([110.0, 150.0])
    expected = np.mean([200 * 10 / 210, 200 * 50 / 350])
    assert metrics.smape(y, f) == pytest.approx(expected)
    assert metrics.smape([0.0], [0.0]) == 0.0


def test_mase_and_rmsse_use_seasonal_naive_scale():
    insample = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    # lag-2 differences: 1, 2, 2, 1 -> MAE 1.5, MSE 2.5
    assert metrics.scale_mae(insample, 2) == pytest.approx(1.5)
    assert metrics.mase([7.0, 8.0], [6.0, 6.0], insample, 2) == pytest.approx(1.5 / 1.5)
    assert metrics.rmsse([7.0, 8.0], [6.0, 6.0], insample, 2) == pytest.approx(np.sqrt(2.5 / 2.5))


def test_coverage_and_msis():
    y = np.array([1.0, 5.0, 10.0])
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([2.0, 2.0, 12.0])
    assert metrics.coverage(y, lo, hi) == pytest.approx(2 / 3)
    insample = np.array([0.0, 1.0, 2.0])  # scale 1
    # widths 2, 2, 12; penalty (2/0.05)*(5-2) = 120 on the second point
    assert metrics.msis(y, lo, hi, insample, 95) == pytest.approx((2 + 2 + 12 + 120) / 3)
    np.testing.assert_allclose(metrics.interval_scores(y, lo, hi, 95), [2.0, 122.0, 12.0])
    # A miss below the band is charged the same way.
    np.testing.assert_allclose(metrics.interval_scores([-1.0], [0.0], [2.0], 80), [2.0 + 10.0])


def test_seasonality_test_detects_monthly_cycle_and_not_noise():
    assert is_seasonal(make_series("M", 72, seed=2).to_numpy(), 12)
    rng = np.random.default_rng(0)
    # White noise: the 90% test at |r_12| flags roughly 10% of series.
    false_alarms = np.mean([is_seasonal(100 + rng.standard_normal(72), 12) for _ in range(300)])
    assert false_alarms < 0.2
    assert not is_seasonal(make_series("M", 30).to_numpy(), 12)  # under three seasons


def test_seasonal_indices_recover_known_pattern():
    pattern = np.array([0.8, 1.0, 1.2, 1.0])
    y = np.tile(pattern, 10) * 50.0
    np.testing.assert_allclose(seasonal_indices(y, 4), pattern, rtol=1e-9)


def test_mixture_of_one_normal_is_that_normal():
    q = mixture_quantiles(np.array([[10.0, 20.0]]), np.array([[2.0, 3.0]]), [0.025, 0.9])
    np.testing.assert_allclose(q[0], [10 + 2 * norm.ppf(0.025), 20 + 3 * norm.ppf(0.025)], rtol=1e-6)
    np.testing.assert_allclose(q[1], [10 + 2 * norm.ppf(0.9), 20 + 3 * norm.ppf(0.9)], rtol=1e-6)


def test_mixture_is_wider_when_members_disagree():
    same = mixture_quantiles(np.array([[0.0], [0.0]]), np.ones((2, 1)), [0.975])
    apart = mixture_quantiles(np.array([[-2.0], [2.0]]), np.ones((2, 1)), [0.975])
    assert apart[0, 0] > same[0, 0] + 1.0


def test_naive_family_reference_values():
    y = pd.Series([1.0, 2.0, 4.0, 7.0], index=pd.period_range("2000", periods=4, freq="Y"))
    fc = Naive().fit(y).predict(2, levels=(95,))
    sigma = np.sqrt(np.mean(np.diff(y.to_numpy()) ** 2))
    np.testing.assert_allclose(fc["mean"], [7.0, 7.0])
    np.testing.assert_allclose(fc["hi_95"] - fc["mean"], norm.ppf(0.975) * sigma * np.sqrt([1, 2]))
    np.testing.assert_allclose(Drift().fit(y).predict(2)["mean"], [9.0, 11.0])
    q = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=pd.period_range("2000Q1", periods=5, freq="Q"))
    np.testing.assert_allclose(SeasonalNaive().fit(q).predict(5)["mean"], [2.0, 3.0, 4.0, 5.0, 2.0])


def test_naive2_deseasonalises_seasonal_series():
    y = make_series("M", 72, seed=3, noise=0.1, trend=0.0)
    fc = Naive2().fit(y).predict(12)
    # Re-seasonalised naive forecasts follow the yearly cycle instead of staying flat.
    assert fc["mean"].max() - fc["mean"].min() > 10


def test_width_calibration_interpolates_levels_and_extends_steps():
    cal = WidthCalibration(levels=(80, 95), length_edges=(45,), factors={"m1_b0": np.array([[1.0, 2.0], [1.5, 3.0]])})
    np.testing.assert_allclose(cal.factor(1, 20, 3, 80), [1.0, 1.5, 1.5])
    np.testing.assert_allclose(cal.factor(1, 20, 1, 90), [1.0 + (2.0 - 1.0) * 10 / 15])
    assert cal.factor(4, 20, 2, 80) is None
    np.testing.assert_allclose(cal.factor(1, 80, 1, 95), [2.0])  # nearest learned bucket
    back = WidthCalibration.from_json(cal.to_json())
    np.testing.assert_allclose(back.factors["m1_b0"], cal.factors["m1_b0"])


def test_apply_width_factors_scales_each_side_and_keeps_nesting():
    mean = np.array([10.0])
    out = apply_width_factors(
        mean,
        {80: (np.array([8.0]), np.array([13.0])), 95: (np.array([7.0]), np.array([14.0]))},
        {80: np.array([2.0]), 95: np.array([1.0])},
    )
    assert out[80] == (pytest.approx([6.0]), pytest.approx([16.0]))
    assert out[95][0][0] <= 6.0 and out[95][1][0] >= 16.0


def test_seasonality_pretest_can_be_left_to_the_information_criterion():
    # White noise fails the 90% ACF test: with the pre-test ETS and CES are built
    # non-seasonal; without it the engine is given the season length and chooses itself.
    from forecasting.models.ets import ETS
    from forecasting.models.theta import CES

    rng = np.random.default_rng(3)
    y = pd.Series(100 + rng.normal(0, 5, 72), index=pd.period_range("2015-01", periods=72, freq="M"))
    assert not is_seasonal(y.to_numpy(), 12)
    for model in (ETS, CES):
        tested = model().fit(y)
        untested = model(seasonality_test=False).fit(y)
        assert tested.params_["season_length"] == 1
        assert untested.params_["season_length"] == 12


def test_ces_intervals_match_the_engines_simulation_without_its_noise():
    from forecasting.models._engine import StatsForecastModel
    from forecasting.models.theta import CES

    y = make_series("M", 96, seed=5)
    model = CES().fit(y)
    fc = model.predict(12, levels=(80, 95))
    mean, simulated = StatsForecastModel._predict(model, 12, (80, 95))  # statsforecast's 5,000 paths
    np.testing.assert_allclose(fc["mean"], mean)
    for level in (80, 95):
        ratio = (fc[f"hi_{level}"].to_numpy() - mean) / (simulated[level][1] - mean)
        assert np.all(np.abs(ratio - 1) < 0.1), ratio
    # Exact, so the same call gives the same bounds and they grow no narrower with the level.
    again = model.predict(12, levels=(80, 95))
    pd.testing.assert_frame_equal(fc, again)


def test_width_calibration_length_edges_per_season_length_round_trip():
    tables = {f"m1_b{b}": np.full((1, 2), 1.0 + b) for b in range(3)} | {"m4_b0": np.ones((1, 2)) * 5.0}
    cal = WidthCalibration(levels=(80, 95), length_edges=(45,), factors=tables, edges_by_season={1: (13, 45)})
    assert [cal.bucket(n, 1) for n in (10, 13, 30, 60)] == [0, 1, 1, 2]
    assert cal.bucket(30, 4) == 0  # season lengths without their own edges use length_edges
    again = WidthCalibration.from_json(cal.to_json())
    assert again.edges_by_season == {1: (13, 45)}
    np.testing.assert_allclose(again.factor(1, 10, 1, 80), [1.0])
    np.testing.assert_allclose(again.factor(1, 20, 1, 80), [2.0])
    np.testing.assert_allclose(again.factor(1, 50, 1, 80), [3.0])
    np.testing.assert_allclose(again.factor(4, 50, 1, 80), [5.0])  # nearest learned bucket


def test_shipped_auto_calibration_is_complete_and_records_how_it_was_made():
    cal = load_calibration("auto")
    assert cal is not None
    assert cal.levels == (50, 60, 70, 80, 90, 95, 99)
    # Users see what the factors depend on; how they were learned is for developers (meta).
    assert "season length" in cal.source and "M3" not in cal.source
    assert "M3 test parts unused" in cal.meta["learned_on"]
    assert cal.meta["script"] == "bench/calibrate_intervals.py"
    # Yearly/other, quarterly and monthly each have a table for their short fits.
    for season_length, n_obs in ((1, 20), (1, 60), (4, 30), (12, 80)):
        assert cal.table(season_length, n_obs) is not None, (season_length, n_obs)
    # The drift is measured for every table and applied to the non-seasonal ones only.
    assert set(cal.meta["drift_measured"]) == set(cal.factors)
    drift = cal.meta["drift_correction"]
    assert set(drift) == {key for key in cal.factors if key.startswith("m1_")}
    for key, table in cal.factors.items():
        table = np.asarray(table)
        assert table.shape[1] == len(cal.levels), key
        assert np.all(np.isfinite(table)) and np.all(table >= 0.05), key
        assert cal.meta["series_per_cell"][key] >= 30, key
    assert all(0.5 <= c <= 2.0 for values in drift.values() for c in values)
    # Volatility buckets exist only where the script's cross-validation chose them, with
    # a table for every (length, volatility) cell that had enough series.
    assert set(cal.meta["volatility_cv_score"]) == {"m1", "m4", "m12"}
    for season_length, edges in cal.volatility_edges.items():
        assert list(edges) == sorted(edges) and len(edges) + 1 in range(2, 6)
        assert any(key.endswith(f"_v{len(edges)}") for key in cal.factors if key.startswith(f"m{season_length}_"))


def test_ensemble_member_unknown_name_raises_not_found():
    from forecasting import NotFoundError
    from forecasting.ensemble import Ensemble
    from forecasting.testing import make_series

    with pytest.raises(NotFoundError, match="unknown member model 'nope'"):
        Ensemble(members=("ets", "nope")).fit(make_series("Y", 20))


def test_ensemble_member_labels_name_wrappers():
    from forecasting.models.arima import ARIMA
    from forecasting.models.catalog import member_label
    from forecasting.models.deseasonalized import Deseasonalized

    assert member_label(Deseasonalized(model=ARIMA())) == "deseasonalized(arima)"
