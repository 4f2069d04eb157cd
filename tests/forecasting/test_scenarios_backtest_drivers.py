"""Scenarios, drivers in backtests and batches, and the split of one driver table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.drivers import split_drivers
from forecasting.exceptions import FutureDriversError, InvalidDriversError, InvalidParameterError
from forecasting.frames import hi_col, lo_col
from forecasting.models.statespace import RegressionARIMA


def _driven(n: int = 60, horizon: int = 6, seed: int = 0) -> tuple[pd.Series, pd.DataFrame]:
    """y = 100 + 3 x + noise on a monthly index; x a random walk. Returns y and x over n + horizon."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0.0, 1.0, n + horizon)) + 50.0
    index = pd.period_range("2015-01", periods=n + horizon, freq="M")
    y = pd.Series(100.0 + 3.0 * x + rng.normal(0.0, 1.0, n + horizon), index=index, name="y")
    return y, pd.DataFrame({"oil": x}, index=index)


def test_split_drivers_gives_history_and_horizon():
    y, X = _driven()
    hist, fut = split_drivers(X, y.index[:60], 6)
    assert hist.index.equals(y.index[:60])
    assert fut.index.equals(y.index[60:])
    np.testing.assert_allclose(fut["oil"], X["oil"].iloc[60:])


def test_split_drivers_missing_future_period_names_it():
    y, X = _driven()
    with pytest.raises(FutureDriversError, match="2020-06"):
        split_drivers(X.drop(X.index[-1]), y.index[:60], 6)


def test_split_drivers_missing_history_period_names_it():
    y, X = _driven()
    with pytest.raises(InvalidDriversError, match="2015-03"):
        split_drivers(X.drop(X.index[2]), y.index[:60], 6)


def test_scenarios_shift_mean_by_driver_effect():
    y, X = _driven()
    model = RegressionARIMA(seasonal=False)
    low, high = X.iloc[60:] - 5.0, X.iloc[60:] + 5.0
    out = forecasting.forecast_scenarios(y.iloc[:60], 6, X.iloc[:60], {"low": low, "high": high}, model=model)
    assert list(out) == ["low", "high"]
    gap = (out["high"]["mean"] - out["low"]["mean"]).to_numpy()
    # The fitted coefficient is about 3: ten units of oil move the forecast by about 30.
    np.testing.assert_allclose(gap, 30.0, rtol=0.15)
    base = forecasting.forecast(y.iloc[:60], 6, model=model, X=X.iloc[:60], X_future=low)
    pd.testing.assert_frame_equal(out["low"], base, check_like=True)


def test_driver_uncertainty_widens_intervals_and_keeps_mean():
    y, X = _driven()
    model = RegressionARIMA(seasonal=False)
    args = (y.iloc[:60], 6, X.iloc[:60], {"s": X.iloc[60:]})
    fixed = forecasting.forecast_scenarios(*args, model=model)["s"]
    opts = {"driver_uncertainty": True, "driver_model": "naive", "driver_paths": 20, "n_paths": 1000}
    wide = forecasting.forecast_scenarios(*args, model=model, **opts)["s"]
    np.testing.assert_allclose(wide["mean"], fixed["mean"])
    width_fixed = fixed[hi_col(95)] - fixed[lo_col(95)]
    width_wide = wide[hi_col(95)] - wide[lo_col(95)]
    assert (width_wide.iloc[1:] > width_fixed.iloc[1:]).all()
    # The drivers' errors grow with the horizon (a random walk), so the widening does too.
    assert (width_wide - width_fixed).iloc[-1] > (width_wide - width_fixed).iloc[0]
    again = forecasting.forecast_scenarios(*args, model=model, **opts)["s"]
    pd.testing.assert_frame_equal(wide, again)


def test_scenario_with_other_columns_is_refused_naming_it():
    y, X = _driven()
    bad = X.iloc[60:].rename(columns={"oil": "gas"})
    with pytest.raises(FutureDriversError, match="scenario 'bad'"):
        forecasting.forecast_scenarios(y.iloc[:60], 6, X.iloc[:60], {"bad": bad}, model="regression_arima")


def test_driver_paths_out_of_range_raise():
    y, X = _driven()
    with pytest.raises(InvalidParameterError, match="driver_paths"):
        forecasting.forecast_scenarios(
            y.iloc[:60], 6, X.iloc[:60], {"s": X.iloc[60:]}, driver_uncertainty=True, driver_paths=3
        )


def test_scenarios_need_at_least_one():
    y, X = _driven()
    with pytest.raises(InvalidParameterError, match="at least one"):
        forecasting.forecast_scenarios(y.iloc[:60], 6, X.iloc[:60], {})


def test_backtest_with_drivers_uses_actual_drivers_at_each_origin():
    y, X = _driven(n=60, horizon=0)
    model = RegressionARIMA(seasonal=False)
    with_x = forecasting.backtest(y, 6, 3, models=[model], levels=(95,), X=X)
    without = forecasting.backtest(y, 6, 3, models=[model], levels=(95,))
    err_x = np.abs(with_x["mean"] - with_x["y"]).mean()
    err = np.abs(without["mean"] - without["y"]).mean()
    assert err_x < 0.5 * err
    # The last window's forecast is the forecast from its cutoff with the actual drivers.
    last = with_x[with_x["cutoff"] == with_x["cutoff"].max()]
    direct = forecasting.forecast(y.iloc[:54], 6, (95,), model=model, X=X.iloc[:54], X_future=X.iloc[54:])
    np.testing.assert_allclose(last["mean"].to_numpy(), direct["mean"].to_numpy())


def test_backtest_drivers_misaligned_raise():
    y, X = _driven(n=60, horizon=0)
    with pytest.raises(InvalidDriversError):
        forecasting.backtest(y, 6, 2, models=["regression_arima"], X=X.iloc[:-1])


def test_forecast_many_with_per_series_drivers():
    ya, Xa = _driven(seed=1)
    yb, Xb = _driven(seed=2)
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": y.index[:60], "y": y.to_numpy()[:60]})
            for uid, y in (("a", ya), ("b", yb))
        ]
    )
    drivers = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": X.index, "oil": X["oil"].to_numpy()})
            for uid, X in (("a", Xa), ("b", Xb))
        ]
    )
    out = forecasting.forecast_many(frame, 6, model="regression_arima", n_jobs=1, drivers=drivers)
    for uid, y, X in (("a", ya, Xa), ("b", yb, Xb)):
        got = out[out["unique_id"] == uid]["mean"].to_numpy()
        want = forecasting.forecast(y.iloc[:60], 6, model="regression_arima", X=X.iloc[:60], X_future=X.iloc[60:])
        np.testing.assert_allclose(got, want["mean"].to_numpy())


def test_forecast_many_series_without_drivers_left_out_with_warning():
    ya, Xa = _driven(seed=1)
    frame = pd.concat(
        [pd.DataFrame({"unique_id": uid, "ds": ya.index[:60], "y": ya.to_numpy()[:60]}) for uid in ("a", "b")]
    )
    drivers = pd.DataFrame({"unique_id": "a", "ds": Xa.index, "oil": Xa["oil"].to_numpy()})
    with pytest.warns(forecasting.FallbackWarning, match="b: InvalidDriversError"):
        out = forecasting.forecast_many(frame, 6, model="regression_arima", n_jobs=1, drivers=drivers)
    assert set(out["unique_id"]) == {"a"}


def test_auto_state_space_refits_at_the_orders_chosen_on_the_holdout():
    from forecasting.models.statespace import AutoStateSpace

    y, X = _driven(n=60, horizon=0)
    auto = AutoStateSpace(season_length=1, holdout=6).fit(y, X)
    assert set(auto.scores_) == {"regression_arima", "structural"}
    shortened = RegressionARIMA(season_length=1).fit(y.iloc[:-6], X.iloc[:-6])
    full = RegressionARIMA(season_length=1)
    full._fixed_order = shortened.order_
    full.fit(y, X)
    assert full.order_ == shortened.order_
    future = pd.DataFrame(
        {"oil": X["oil"].iloc[-3:].to_numpy()}, index=pd.period_range(y.index[-1] + 1, periods=3, freq="M")
    )
    chosen = auto.model_
    if auto.chosen_ == "regression_arima":  # the refit used the holdout's orders, not a new search
        assert chosen.order_ == shortened.order_
        np.testing.assert_allclose(auto.predict(3, X_future=future)["mean"], full.predict(3, X_future=future)["mean"])
