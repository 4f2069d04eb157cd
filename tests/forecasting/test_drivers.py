"""Drivers (X / X_future) and gaps (missing="model") on the state-space models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.core import to_period_series
from forecasting.exceptions import (
    DriversNotSupportedError,
    FutureDriversError,
    InvalidDriversError,
    MissingNotSupportedError,
    MissingValuesError,
)
from forecasting.models.statespace import AutoStateSpace, RegressionARIMA, Structural

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def _driven(n: int = 48, horizon: int = 6, seed: int = 0) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.Series]:
    """y = 5 x + AR(1) noise on a quarterly index; returns y, X, X_future and the future y."""
    rng = np.random.default_rng(seed)
    total = n + horizon
    x = np.cumsum(rng.normal(0.0, 1.0, total)) + 10.0 * np.sin(np.arange(total) / 3.0)
    noise = np.zeros(total)
    for t in range(1, total):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0.0, 1.0)
    index = pd.period_range("2000Q1", periods=total, freq="Q")
    y_all = pd.Series(100.0 + 5.0 * x + noise, index=index, name="y")
    X_all = pd.DataFrame({"x": x}, index=index)
    return y_all.iloc[:n], X_all.iloc[:n], X_all.iloc[n:], y_all.iloc[n:]


@pytest.mark.parametrize("model", [RegressionARIMA(seasonal=False), Structural(seasonal=False)])
def test_drivers_known_future_cut_error_against_univariate(model):
    y, X, X_future, actual = _driven()
    with_x = forecasting.forecast(y, 6, (95,), model=model, X=X, X_future=X_future)
    without = forecasting.forecast(y, 6, (95,), model=model)
    err_x = np.abs(with_x["mean"] - actual).mean()
    err = np.abs(without["mean"] - actual).mean()
    assert err_x < 0.5 * err
    assert with_x.index.equals(X_future.index)


def test_regression_arima_recovers_driver_coefficient():
    y, X, _, _ = _driven(n=80)
    model = RegressionARIMA(seasonal=False).fit(y, X)
    assert model.params_["drivers"]["x"] == pytest.approx(5.0, abs=0.3)
    assert list(model.drivers_) == ["x"]


def test_model_without_drivers_refuses_X():
    y, X, X_future, _ = _driven()
    with pytest.raises(DriversNotSupportedError, match="takes no drivers") as info:
        forecasting.forecast(y, 6, model="naive", X=X, X_future=X_future)
    assert info.value.code == "drivers_not_supported"


def test_drivers_misaligned_with_y_raise_invalid_drivers():
    y, X, _, _ = _driven()
    with pytest.raises(InvalidDriversError, match="indexed exactly like y") as info:
        Structural(seasonal=False).fit(y, X.iloc[1:])
    assert info.value.code == "invalid_drivers"


def test_drivers_with_gap_raise_invalid_drivers_naming_the_period():
    y, X, _, _ = _driven()
    X = X.copy()
    X.iloc[7, 0] = np.nan
    with pytest.raises(InvalidDriversError, match="2001Q4"):
        Structural(seasonal=False).fit(y, X)


def test_future_drivers_required_after_fitting_with_drivers():
    y, X, _, _ = _driven()
    model = Structural(seasonal=False).fit(y, X)
    with pytest.raises(FutureDriversError, match="X_future") as info:
        model.predict(6)
    assert info.value.code == "invalid_future_drivers"


@pytest.mark.parametrize(
    "bad",
    [
        lambda xf: xf.iloc[:3],
        lambda xf: xf.rename(columns={"x": "oil"}),
        lambda xf: xf.set_axis(xf.index + 1),
    ],
    ids=["too_few_rows", "other_columns", "not_continuing"],
)
def test_future_drivers_must_match_horizon_and_columns(bad):
    y, X, X_future, _ = _driven()
    model = Structural(seasonal=False).fit(y, X)
    with pytest.raises(FutureDriversError):
        model.predict(6, X_future=bad(X_future))


def test_future_drivers_refused_when_fitted_without():
    y, _, X_future, _ = _driven()
    model = Structural(seasonal=False).fit(y)
    with pytest.raises(FutureDriversError, match="fitted without drivers"):
        model.predict(6, X_future=X_future)


def test_sample_paths_with_drivers_agree_with_bounds():
    y, X, X_future, _ = _driven()
    model = Structural(seasonal=False).fit(y, X)
    paths = model.sample_paths(6, 400, random_state=3, X_future=X_future)
    fc = model.predict(6, (80,), X_future=X_future)
    values, lo, hi = paths.to_numpy(), fc["lo_80"].to_numpy()[:, None], fc["hi_80"].to_numpy()[:, None]
    inside = ((values >= lo) & (values <= hi)).mean()
    assert 0.75 < inside < 0.85


@pytest.mark.slow
def test_auto_with_drivers_chooses_a_state_space_model():
    y, X, X_future, _ = _driven()
    fc = forecasting.forecast(y, 6, model="auto", X=X, X_future=X_future)
    model = AutoStateSpace().fit(y, X)
    assert model.chosen_ in {"regression_arima", "structural"}
    assert set(model.scores_) == {"regression_arima", "structural"}
    assert fc.attrs["model"] == "auto"


def test_missing_error_names_the_model_option():
    y, _, _, _ = _driven()
    y = y.copy()
    y.iloc[[3, 9]] = np.nan
    with pytest.raises(MissingValuesError, match="missing='model'"):
        forecasting.forecast(y, 4)


def test_missing_model_refused_by_models_without_likelihood_for_gaps():
    y, _, _, _ = _driven()
    y = y.copy()
    y.iloc[3] = np.nan
    with pytest.raises(MissingNotSupportedError, match="regression_arima") as info:
        forecasting.forecast(y, 4, model="ets", missing="model")
    assert info.value.code == "missing_not_supported"


def test_missing_policy_unknown_raises():
    y, _, _, _ = _driven()
    with pytest.raises(forecasting.InvalidParameterError, match="missing"):
        forecasting.forecast(y, 4, missing="fill")


@pytest.mark.parametrize("model", ["regression_arima", "structural"])
def test_missing_model_fits_through_gaps_without_filling(model):
    y, _, _, _ = _driven(n=60)
    gappy = y.copy()
    gappy.iloc[np.random.default_rng(1).choice(58, 15, replace=False)] = np.nan
    fc = forecasting.forecast(gappy, 4, (80, 95), model=model, missing="model")
    assert np.isfinite(fc.to_numpy()).all()
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()


def test_yuan_settlement_shares_forecastable_with_missing_model():
    rows = pd.read_csv(SAMPLES / "ru_settlement_currency_shares.csv", dtype={"ds": str})
    rows = rows[rows["unique_id"] == "ru_export_settlement_share_cny"]
    y = to_period_series(pd.PeriodIndex(rows["ds"], freq="M"), rows["y"], name="cny")
    assert y.isna().sum() > y.notna().sum()  # scattered months: more gaps than values
    fc = forecasting.forecast(y, 6, (80, 95), kind="share", missing="model")
    assert len(fc) == 6 and str(fc.index[0]) == "2024-02"
    values = fc.to_numpy()
    assert np.isfinite(values).all() and (values > 0).all() and (values < 1).all()


def _quarterly(n: int = 48, seed: int = 2) -> pd.Series:
    """A trending quarterly series with AR(1) noise (no drivers)."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0.0, 1.0)
    return pd.Series(50.0 + 0.4 * np.arange(n) + noise, index=pd.period_range("2000Q1", periods=n, freq="Q"))


def test_auto_state_space_uses_structural_when_the_holdout_has_a_gap():
    y = _quarterly()
    y.iloc[[5, 20, -3]] = np.nan  # one gap inside the last 6 periods (the holdout)
    model = AutoStateSpace(season_length=1, holdout=6).fit(y)
    assert model.chosen_ == "structural"
    assert model.scores_ == {}  # no comparison was run on a holdout with a gap
    assert model.params_["holdout_observed"] == 5
    alone = Structural(season_length=1).fit(y)
    np.testing.assert_allclose(model.predict(4)["mean"], alone.predict(4)["mean"])


def test_auto_state_space_compares_when_gaps_are_only_before_the_holdout():
    y = _quarterly()
    y.iloc[[5, 20, 30]] = np.nan
    model = AutoStateSpace(season_length=1, holdout=6).fit(y)
    assert set(model.scores_) == {"regression_arima", "structural"}
    assert model.chosen_ == min(model.scores_, key=lambda k: model.scores_[k])


def test_auto_state_space_min_observed_share_lets_a_partly_observed_holdout_compare():
    y = _quarterly()
    y.iloc[-3] = np.nan  # 5 of 6 holdout periods observed
    model = AutoStateSpace(season_length=1, holdout=6, min_observed_share=0.8).fit(y)
    assert set(model.scores_) == {"regression_arima", "structural"}
    strict = AutoStateSpace(season_length=1, holdout=6, min_observed_share=0.9).fit(y)
    assert strict.scores_ == {} and strict.chosen_ == "structural"


@pytest.mark.parametrize("share", [0, 0.0, 1.5, -0.2, True, "all", None])
def test_auto_state_space_rejects_bad_min_observed_share(share):
    with pytest.raises(forecasting.InvalidParameterError, match="min_observed_share"):
        AutoStateSpace(season_length=1, min_observed_share=share).fit(_quarterly())


def test_auto_with_missing_model_skips_the_comparison_on_a_gappy_holdout():
    # A sparse series (fewer than half its periods observed) goes to the state-space choice,
    # which uses the structural model when its holdout has a gap.
    y = _quarterly(n=60)
    y.iloc[np.random.default_rng(4).choice(59, 32, replace=False)] = np.nan
    y.iloc[-2] = np.nan
    fc = forecasting.forecast(y, 4, (80, 95), model="auto", missing="model")
    alone = forecasting.forecast(y, 4, (80, 95), model="structural", missing="model")
    np.testing.assert_allclose(fc.to_numpy(), alone.to_numpy())
