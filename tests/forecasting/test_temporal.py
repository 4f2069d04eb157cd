"""Temporal hierarchies: every aggregation of the year forecast and reconciled (issue 36)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.exceptions import InsufficientDataError, InvalidParameterError
from forecasting.temporal import (
    MSE_FLOOR,
    TemporalBase,
    aggregation_levels,
    forecast_temporal,
    reconcile_temporal,
    temporal_summing,
)
from forecasting.testing import make_series


def test_aggregation_levels_and_summing_matrix() -> None:
    assert aggregation_levels(12) == (12, 6, 4, 3, 2, 1)
    assert aggregation_levels(4) == (4, 2, 1)
    s = temporal_summing(4)
    assert s.shape == (7, 4)
    np.testing.assert_array_equal(s[0], [1, 1, 1, 1])  # the year
    np.testing.assert_array_equal(s[1:3], [[1, 1, 0, 0], [0, 0, 1, 1]])  # half-years
    np.testing.assert_array_equal(s[3:], np.eye(4))  # quarters
    assert temporal_summing(12).shape == (1 + 2 + 3 + 4 + 6 + 12, 12)


def _block_sums(fc_small: pd.DataFrame, k: int) -> np.ndarray:
    values = fc_small["mean"].to_numpy()
    n = len(values) // k * k
    return values[:n].reshape(-1, k).sum(axis=1)


@pytest.mark.parametrize("method", ["wls_struct", "wls_var", "wls_mse", "mint_shrink"])
def test_monthly_forecasts_add_up_to_every_aggregate(method: str) -> None:
    y = make_series("M", 60, seed=2)
    tf = forecast_temporal(y, 24, (80, 95), model="seasonal_naive", method=method, n_paths=300)
    assert set(tf.frames) == {12, 6, 4, 3, 2, 1} and tf.method == method
    monthly = tf.frame
    assert len(monthly) == 24 and str(monthly.index[0]) == str(y.index[-1] + 1)
    for k, frame in tf.frames.items():
        np.testing.assert_allclose(frame["mean"].to_numpy(), _block_sums(monthly, k), rtol=1e-10)
        assert str(frame.index[0]) == str(y.index[-1] + k)  # a block is dated by its last month
        for level in (80, 95):
            assert np.all(frame[f"lo_{level}"] <= frame["mean"]) and np.all(frame["mean"] <= frame[f"hi_{level}"])
    # Path by path as well: the monthly paths sum to the annual paths' band.
    annual = tf.paths[:12].sum(axis=0)
    np.testing.assert_allclose(np.quantile(annual, 0.1), tf.frames[12]["lo_80"].iloc[0], rtol=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    years=st.integers(3, 6),
    horizon=st.integers(1, 30),
    quarterly=st.booleans(),
    method=st.sampled_from(["wls_struct", "wls_var", "wls_mse", "mint_shrink"]),
    combine=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_property_reconciled_periods_sum_to_the_reconciled_years(
    seed: int, years: int, horizon: int, quarterly: bool, method: str, combine: float
) -> None:
    freq, m = ("Q", 4) if quarterly else ("M", 12)
    y = make_series(freq, years * m + seed % m, seed=seed, noise=5.0)
    tf = forecast_temporal(y, horizon, (80,), model="naive2", method=method, combine=combine, n_paths=100, seed=seed)
    whole_years = len(tf.frame) // m
    if whole_years:
        np.testing.assert_allclose(
            tf.frames[m]["mean"].to_numpy()[:whole_years], _block_sums(tf.frame, m)[:whole_years], rtol=1e-9
        )


def test_temporal_refuses_annual_short_and_unknown_method() -> None:
    with pytest.raises(InvalidParameterError, match="monthly or quarterly"):
        forecast_temporal(make_series("Y", 30, seasonal=False), 3)
    with pytest.raises(InsufficientDataError, match="3 whole years"):
        forecast_temporal(make_series("M", 30), 3)
    with pytest.raises(InvalidParameterError, match="method"):
        forecast_temporal(make_series("M", 48), 3, method="bottom_up")


def _quarterly_base(residual_sd: dict[int, float]) -> tuple[pd.Series, TemporalBase]:
    """A hand-made base of one quarterly year: level means off coherence, residuals of given sizes."""
    y = make_series("Q", 16, seed=1)
    rng = np.random.default_rng(0)
    mean = {4: np.array([440.0]), 2: np.array([200.0, 230.0]), 1: np.array([100.0, 105.0, 110.0, 115.0])}
    paths = {k: v[:, None] + rng.normal(0, 1, (len(v), 50)) for k, v in mean.items()}
    signs = np.resize([1.0, -1.0], 16)
    residuals = {k: residual_sd[k] * signs[: 16 // k] for k in (4, 2, 1)}
    return y, TemporalBase(4, mean, paths, residuals, {k: "Naive" for k in mean})


def _gls_mean(mean: dict[int, np.ndarray], variances: list[float]) -> np.ndarray:
    s = temporal_summing(4)
    w_inv_s = s / np.array(variances)[:, None]
    g = np.linalg.solve(s.T @ w_inv_s, w_inv_s.T)
    return np.asarray(g @ np.concatenate([mean[4], mean[2], mean[1]]))


def test_wls_mse_weights_levels_by_their_error_and_floors_a_perfect_fit() -> None:
    # Annual level fits exactly (error 0): floored at MSE_FLOOR of 4 quarters' structural variance.
    y, base = _quarterly_base({4: 0.0, 2: 3.0, 1: 1.0})
    tf = reconcile_temporal(y, 4, (80,), base, "wls_mse")
    expected = _gls_mean(base.mean, [MSE_FLOOR * 4] + [9.0] * 2 + [1.0] * 4)
    np.testing.assert_allclose(tf.frame["mean"].to_numpy(), expected, rtol=1e-9)
    # Unguarded, the annual node would take all the weight: its 440 would be kept exactly.
    assert abs(tf.frames[4]["mean"].iloc[0] - 440.0) > 0.5


def test_combine_mixes_the_bottom_base_and_stays_coherent() -> None:
    y, base = _quarterly_base({4: 2.0, 2: 1.5, 1: 1.0})
    rec = reconcile_temporal(y, 4, (80,), base, "wls_struct").frame["mean"].to_numpy()
    full = reconcile_temporal(y, 4, (80,), base, "wls_struct", combine=1.0)
    np.testing.assert_allclose(full.frame["mean"].to_numpy(), base.mean[1], rtol=1e-12)  # bottom-up
    half = reconcile_temporal(y, 4, (80,), base, "wls_struct", combine=0.5)
    np.testing.assert_allclose(half.frame["mean"].to_numpy(), 0.5 * rec + 0.5 * base.mean[1], rtol=1e-12)
    np.testing.assert_allclose(half.frames[4]["mean"].iloc[0], half.frame["mean"].sum(), rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="combine"):
        reconcile_temporal(y, 4, (80,), base, "wls_struct", combine=1.5)


def test_aggregate_model_fits_the_levels_above_the_bottom() -> None:
    y = make_series("M", 60, seed=3)
    tf = forecast_temporal(y, 12, (80,), model="seasonal_naive", aggregate_model="naive", n_paths=50)
    assert tf.models[1] == "SeasonalNaive"
    assert {tf.models[k] for k in (12, 6, 4, 3, 2)} == {"Naive"}
