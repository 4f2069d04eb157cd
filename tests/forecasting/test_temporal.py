"""Temporal hierarchies: every aggregation of the year forecast and reconciled (issue 36)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.exceptions import InsufficientDataError, InvalidParameterError
from forecasting.temporal import aggregation_levels, forecast_temporal, temporal_summing
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


@pytest.mark.parametrize("method", ["wls_struct", "wls_var", "mint_shrink"])
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
    method=st.sampled_from(["wls_struct", "wls_var", "mint_shrink"]),
)
def test_property_reconciled_periods_sum_to_the_reconciled_years(
    seed: int, years: int, horizon: int, quarterly: bool, method: str
) -> None:
    freq, m = ("Q", 4) if quarterly else ("M", 12)
    y = make_series(freq, years * m + seed % m, seed=seed, noise=5.0)
    tf = forecast_temporal(y, horizon, (80,), model="naive2", method=method, n_paths=100, seed=seed)
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
