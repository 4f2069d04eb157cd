"""VAR/VECM forecasts and impulse responses on simulated data with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import InsufficientDataError, InvalidParameterError, InvalidSeriesError
from forecasting.multivariate import forecast_var, impulse_responses


def _index(n: int) -> pd.PeriodIndex:
    return pd.period_range("2000-01", periods=n, freq="M", name="ds")


def _cointegrated(seed: int, n: int = 200) -> pd.DataFrame:
    """``x`` a random walk with drift; ``y = 0.8 x + AR(1) noise``: one cointegrating relation."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0.3, 1.0, n))
    u = np.zeros(n)
    for t in range(1, n):
        u[t] = 0.5 * u[t - 1] + rng.normal(0, 0.5)
    return pd.DataFrame({"x": x + 50, "y": 0.8 * x + u + 40}, index=_index(n))


def _independent(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(np.cumsum(rng.normal(0.3, 1.0, (n, 2)), axis=0) + 50, columns=["a", "b"], index=_index(n))


def test_johansen_finds_the_cointegrating_relation_and_fits_a_vecm():
    specs = [forecast_var(_cointegrated(s), 6, (95,), transform=None, seasonal=False).attrs["spec"] for s in range(20)]
    # Trace test at 5%: rank 1 was found for 36 of 40 such pairs when this was written.
    assert sum(spec.coint_rank == 1 for spec in specs) >= 15
    assert all(spec.model == "vecm" for spec in specs if spec.coint_rank == 1)


def test_independent_random_walks_are_not_cointegrated():
    ranks = [
        forecast_var(_independent(s), 6, (95,), transform=None, seasonal=False).attrs["spec"].coint_rank
        for s in range(20)
    ]
    assert sum(rank == 0 for rank in ranks) >= 15


def test_forecast_var_returns_the_long_frame_with_nested_intervals():
    frame = _cointegrated(0)
    fc = forecast_var(frame, 5, (80, 95), transform=None, seasonal=False)
    assert list(fc.columns) == ["unique_id", "model", "cutoff", "ds", "h", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert sorted(fc["unique_id"].unique()) == ["x", "y"] and len(fc) == 10
    assert (fc["cutoff"] == frame.index[-1]).all()
    assert fc["ds"].iloc[0] == frame.index[-1] + 1 and fc["h"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert ((fc["lo_95"] < fc["lo_80"]) & (fc["lo_80"] <= fc["mean"]) & (fc["hi_80"] < fc["hi_95"])).all()
    width = (fc["hi_95"] - fc["lo_95"]).to_numpy().reshape(2, 5)
    assert (np.diff(width, axis=1) > 0).all()  # intervals widen with the horizon


def test_forecast_var_log_transform_keeps_bounds_positive():
    frame = np.exp(_cointegrated(1) / 20)
    fc = forecast_var(frame, 12, (95,), transform="log")
    assert (fc["lo_95"] > 0).all() and (fc["lo_95"] <= fc["mean"]).all()


def test_impulse_response_signs_follow_the_simulated_var():
    # y reacts to last month's x (+0.4); x does not react to y.
    rng = np.random.default_rng(4)
    n = 400
    data = np.zeros((n, 2))
    A = np.array([[0.5, 0.0], [0.4, 0.3]])
    for t in range(1, n):
        data[t] = A @ data[t - 1] + rng.normal(0, 1, 2)
    frame = pd.DataFrame(data, columns=["x", "y"], index=_index(n))
    ir = impulse_responses(frame, 6, 95, lags=1, transform=None, seasonal=False).set_index(
        ["impulse", "response", "step"]
    )
    x_to_y = ir.loc[("x", "y", 1)]
    assert x_to_y["lo_95"] > 0 and x_to_y["irf"] == pytest.approx(0.4 * 1.0 + 0.3 * 0.0, abs=0.15)
    y_to_x = ir.loc[("y", "x", 1)]
    assert y_to_x["lo_95"] < 0 < y_to_x["hi_95"]
    # Cholesky order: the second series' shock does not move the first on impact.
    assert ir.loc[("y", "x", 0), "irf"] == pytest.approx(0.0, abs=1e-12)
    assert len(ir) == 4 * 7


def test_forecast_var_errors_name_the_problem():
    frame = _cointegrated(2)
    with pytest.raises(InvalidSeriesError, match="two or more"):
        forecast_var(frame[["x"]], 3)
    gappy = frame.copy()
    gappy.iloc[10, 1] = np.nan
    with pytest.raises(InvalidSeriesError, match="'y' has 1 missing"):
        forecast_var(gappy, 3, transform=None)
    with pytest.raises(InvalidSeriesError, match="<= 0"):
        forecast_var(frame - 100, 3)
    with pytest.raises(InvalidSeriesError, match="skips periods"):
        forecast_var(frame.drop(frame.index[5]), 3, transform=None)
    with pytest.raises(InsufficientDataError, match="need at least"):
        forecast_var(frame.iloc[:20], 3, transform=None)
    with pytest.raises(InvalidParameterError, match="lags"):
        forecast_var(frame, 3, lags="best", transform=None)
    with pytest.raises(InvalidParameterError, match="coint"):
        forecast_var(frame, 3, coint="engle", transform=None)
    with pytest.raises(InvalidParameterError, match="transform"):
        forecast_var(frame, 3, transform="sqrt")
